"""Assignment pages: list, set, edit, a student's progress, the class table, grading.

Plain forms, POST-redirect-GET. An assignment or course the user may not see is a 404
(the selectors say so); an act a member may not do is a 403; a grade saved over a newer
one is a 409 showing the grade as it is now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from annotations import fragments, grading, permissions, selectors
from annotations.forms import AssignmentForm, ExtensionForm, GradeForm, add_service_errors
from annotations.models import Course, Section
from annotations.models.assignments import REQUIREMENTS, Assignment
from annotations.models.courses import Role
from annotations.services import assignments as services
from annotations.templatetags.numbers import GroupedCount

# Each kind of work counted, as "1 annotation" / "2 annotations" in the reader's language.
COUNTED = {
    "annotations": ngettext_lazy("%(count)s annotation", "%(count)s annotations", "count"),
    "challenges": ngettext_lazy("%(count)s challenge", "%(count)s challenges", "count"),
    "sources": ngettext_lazy("%(count)s source cited", "%(count)s sources cited", "count"),
    "replies": ngettext_lazy("%(count)s reply", "%(count)s replies", "count"),
    "links": ngettext_lazy("%(count)s claim–event link", "%(count)s claim–event links", "count"),
}
REPLY_KINDS = {
    "AnnotationReply": _("Reply to an annotation"),
    "ChallengeResponse": _("Response to a challenge"),
    "Post": _("Post in a discussion"),
}


def requirements_in_words(counts: dict[str, int]) -> str:
    """``{"annotations": 2, "challenges": 1}`` → "2 annotations, 1 challenge" (zeros left out)."""
    parts = [COUNTED[kind] % {"count": GroupedCount(n)} for kind, n in counts.items() if n]
    return ", ".join(parts)


# -- finding things and refusing ------------------------------------------------------------


def _assignment(request: HttpRequest, pk: int) -> Assignment:
    return selectors.assignment_for_user(request.user, pk)


def _graded_assignment(request: HttpRequest, pk: int) -> Assignment:
    assignment = _assignment(request, pk)
    if not permissions.can_grade(request.user, assignment.course):
        raise PermissionDenied(services.NOT_STAFF)
    return assignment


def _set_assignment(request: HttpRequest, pk: int) -> Assignment:
    assignment = _assignment(request, pk)
    if not permissions.can_set_assignments(request.user, assignment.course):
        raise PermissionDenied(services.NOT_INSTRUCTOR)
    return assignment


def _students(course: Course) -> list:
    """The course's students (users), by username."""
    return [m.user for m in selectors.memberships_for_course(course).filter(role=Role.STUDENT)]


# -- the list -------------------------------------------------------------------------------


@login_required
def assignment_list(request: HttpRequest, pk: int) -> HttpResponse:
    course = selectors.course_for_user(request.user, pk)
    now = timezone.now()
    rows = [
        {
            "assignment": a,
            "scope": a.describe_scope(),
            "status": Assignment.Status(a.status_at(now)).label,
            "requirements": requirements_in_words(a.required()),
        }
        for a in selectors.assignment_list(request.user).filter(course=course)
    ]
    return render(
        request,
        "annotations/assignments/list.html",
        {
            "nav": "courses",
            "course": course,
            "rows": rows,
            "can_set": permissions.can_set_assignments(request.user, course),
            "can_grade": permissions.can_grade(request.user, course),
        },
    )


# -- setting and changing -------------------------------------------------------------------


def _form(course: Course, data=None, *, initial: dict | None = None) -> AssignmentForm:
    sections = list(Section.objects.filter(document_id=course.reading_id).order_by("order"))
    return AssignmentForm(data, initial=initial, sections=sections, claims=selectors.claims_of_course(course))


def _fields(form: AssignmentForm) -> dict:
    data = dict(form.cleaned_data)
    return {name: value for name, value in data.items() if name in services.EDITABLE}


def _form_page(request: HttpRequest, course: Course, form: AssignmentForm, assignment=None, status=200):
    return render(
        request,
        "annotations/assignments/form.html",
        {
            "nav": "courses",
            "course": course,
            "form": form,
            "assignment": assignment,
            "time_zone": timezone.get_current_timezone_name(),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def assignment_create(request: HttpRequest, pk: int) -> HttpResponse:
    course = selectors.course_for_user(request.user, pk)
    if not permissions.can_set_assignments(request.user, course):
        raise PermissionDenied(services.NOT_INSTRUCTOR)
    if request.method == "GET":
        return _form_page(request, course, _form(course))
    form = _form(course, request.POST)
    if form.is_valid():
        try:
            assignment = services.assignment_create(
                user=request.user,
                course=course,
                sections=form.cleaned_data["sections"],
                claims=form.cleaned_data["claims"],
                **_fields(form),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, gettext("The assignment “%(title)s” is set.") % {"title": assignment.title}
            )
            return redirect(assignment)
    return _form_page(request, course, form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def assignment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _set_assignment(request, pk)
    course = assignment.course
    if request.method == "GET":
        form = _form(course, initial=AssignmentForm.initial_for(assignment))
        return _form_page(request, course, form, assignment)
    form = _form(course, request.POST)
    if form.is_valid():
        try:
            services.assignment_update(
                user=request.user,
                assignment=assignment,
                sections=form.cleaned_data["sections"],
                claims=form.cleaned_data["claims"],
                **_fields(form),
            )
        except ValidationError as error:
            add_service_errors(form, error)
            # The service set the refused values on the object; the page names the saved one.
            assignment.refresh_from_db()
        else:
            messages.success(request, gettext("The assignment is saved."))
            return redirect(assignment)
    return _form_page(request, course, form, assignment, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def assignment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _set_assignment(request, pk)
    errors: list[str] = []
    if request.method == "POST":
        try:
            services.assignment_delete(user=request.user, assignment=assignment)
        except ValidationError as error:
            errors = error.messages
        else:
            messages.success(
                request, gettext("The assignment “%(title)s” is deleted.") % {"title": assignment.title}
            )
            return redirect("assignments:list", pk=assignment.course_id)
    return render(
        request,
        "annotations/assignments/delete.html",
        {"nav": "courses", "course": assignment.course, "assignment": assignment, "errors": errors},
        status=400 if errors else 200,
    )


# -- one assignment -------------------------------------------------------------------------


@dataclass
class WorkItem:
    """One counted piece of a student's work, as the progress page lists it."""

    kind: str
    text: str
    url: str | None
    late: bool


def _work_items(assignment: Assignment, student) -> list[WorkItem]:
    course_pk = assignment.course_id
    found = grading.counted_work(assignment, student)
    items: list[WorkItem] = []
    for annotation, timing in found["annotations"]:
        text = f"Annotation on {annotation.paragraph.anchor}: “{annotation.exact[:60]}”"
        items.append(WorkItem("annotation", text, annotation.get_absolute_url(), timing == "late"))
    for challenge, timing in found["challenges"]:
        url = reverse("challenges:claim", kwargs={"pk": course_pk, "key": challenge.claim.key})
        text = f"Challenge of claim {challenge.claim.key} ({challenge.get_stance_display()})"
        items.append(WorkItem("challenge", text, f"{url}#challenge-{challenge.pk}", timing == "late"))
    for link, timing in found["links"]:
        url = reverse("links:claim", kwargs={"pk": course_pk, "key": link.claim.key})
        text = f"Link of claim {link.claim.key} to “{link.event}”"
        items.append(WorkItem("link", text, url, timing == "late"))
    for reply, timing in found["replies"]:
        thread_id = getattr(reply, "thread_id", None)
        url = (
            reverse("threads:detail", kwargs={"pk": course_pk, "thread_pk": thread_id}) if thread_id else None
        )
        what = REPLY_KINDS.get(type(reply).__name__, gettext("Reply"))
        text = f"{what}, {timezone.localtime(reply.created_at):%d %b %Y, %H:%M}"
        items.append(WorkItem("reply", text, url, timing == "late"))
    return items


def _detail_context(request: HttpRequest, assignment: Assignment, **forms: object) -> dict:
    course = assignment.course
    user = request.user
    can_grade = permissions.can_grade(user, course)
    progress = grading.student_progress(assignment, user)
    context: dict = {
        "nav": "courses",
        "course": course,
        "assignment": assignment,
        "scope": grading.Scope(assignment).describe(),
        "status": Assignment.Status(assignment.status_at(timezone.now())).label,
        "requirements": requirements_in_words(assignment.required()),
        "progress": progress,
        "can_grade": can_grade,
        "can_set": permissions.can_set_assignments(user, course),
    }
    if progress is not None:
        context["window"] = progress.window
        context["tallies"] = [
            (grading.REQUIREMENT_LABELS[kind], tally) for kind, tally in progress.tallies.items()
        ]
        context["still_to_do"] = requirements_in_words(progress.missing)
        context["work"] = _work_items(assignment, user)
        context["grade_visible"] = permissions.can_see_own_grade(user, assignment)
    if can_grade:
        context["extensions"] = list(assignment.extensions.select_related("student", "granted_by"))
        context["extension_form"] = forms.get("extension_form") or ExtensionForm(students=_students(course))
    return context


@login_required
def assignment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _assignment(request, pk)
    return render(request, "annotations/assignments/detail.html", _detail_context(request, assignment))


@login_required
@require_POST
def extension_grant(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _graded_assignment(request, pk)
    form = ExtensionForm(request.POST, students=_students(assignment.course))
    if form.is_valid():
        try:
            services.extension_grant(user=request.user, assignment=assignment, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            student = form.cleaned_data["student"]
            messages.success(
                request, gettext("%(student)s has an extension.") % {"student": student.get_username()}
            )
            return redirect(f"{assignment.get_absolute_url()}#extensions")
    context = _detail_context(request, assignment, extension_form=form)
    return render(request, "annotations/assignments/detail.html", context, status=400)


@login_required
@require_POST
def extension_revoke(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    assignment = _graded_assignment(request, pk)
    extension = assignment.extensions.select_related("student").filter(student_id=user_id).first()
    if extension is None:
        raise Http404("No such extension.")
    services.extension_revoke(user=request.user, extension=extension)
    messages.success(
        request,
        gettext("%(student)s's extension is revoked.") % {"student": extension.student.get_username()},
    )
    return redirect(f"{assignment.get_absolute_url()}#extensions")


@login_required
@require_POST
def grades_release(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _set_assignment(request, pk)
    try:
        services.grades_release(user=request.user, assignment=assignment)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, gettext("The grades are released: each student sees theirs and is notified.")
        )
    return redirect(assignment)


@login_required
@require_POST
def grades_withhold(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _set_assignment(request, pk)
    try:
        services.grades_withhold(user=request.user, assignment=assignment)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, gettext("The grades are withheld: students no longer see them."))
    return redirect(assignment)


# -- the class table ------------------------------------------------------------------------


def _sort_key(sort: str):
    if sort == "group":
        return lambda s: (s.group_name is None, s.group_name or "")
    if sort == "score":
        return lambda s: s.score
    if sort == "late":
        return lambda s: s.late
    if sort in REQUIREMENTS:
        return lambda s: s.tallies[sort].counted if sort in s.tallies else 0
    return lambda s: s.username.lower()


@dataclass(frozen=True)
class ClassRow:
    """One student's line of the class table, every value ready to print: the table has a
    line per student of the course, so the template only copies strings."""

    username: str
    group: str
    tallies: list[grading.Tally]
    complete: bool
    late: bool
    auto_score: str
    override: str
    score: str
    graded: str
    grade_url: str


def _class_rows(assignment: Assignment, rows: list[grading.Standing], asked: list[str]) -> list[ClassRow]:
    """The class table's lines, in the order of ``rows``."""
    # One reverse for the table: the grade pages differ only by the student's id at the end.
    grade_prefix = reverse("assignments:grade", args=[assignment.pk, 0]).removesuffix("0/")
    # Grades are given in sittings: many share the minute shown, and formatting a date is
    # the dearest thing a line does. Scores repeat too: each is written once.
    minutes: dict[datetime, str] = {}
    scores: dict[Decimal, str] = {}
    someone = gettext("someone")
    graded_as = gettext("%(name)s, %(graded_at)s")

    def written(value: Decimal) -> str:
        if value not in scores:
            scores[value] = grading.format_score(value)
        return scores[value]

    lines = []
    for s in rows:
        graded = ""
        if s.graded_at:
            minute = timezone.localtime(s.graded_at).replace(second=0, microsecond=0)
            if minute not in minutes:
                minutes[minute] = date_format(minute, "DATETIME_FORMAT")
            graded = graded_as % {
                "name": someone if s.graded_by is None else s.graded_by,
                "graded_at": minutes[minute],
            }
        lines.append(
            ClassRow(
                username=s.username,
                group="—" if s.group_name is None else s.group_name,
                tallies=[s.tallies[kind] for kind in asked],
                complete=s.complete,
                late=s.late,
                auto_score=written(s.auto_score),
                override="—" if s.override is None else written(s.override),
                score=written(s.score),
                graded=graded,
                grade_url=f"{grade_prefix}{s.student_id}/",
            )
        )
    return lines


@login_required
def class_table(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _graded_assignment(request, pk)
    course = assignment.course
    groups = list(selectors.groups_of_course(course))
    wanted_group = request.GET.get("group", "")
    group_ids = {str(g.pk): g.pk for g in groups}
    if wanted_group in group_ids:
        rows = grading.class_standings(assignment, group_id=group_ids[wanted_group])
    else:
        rows = grading.class_standings(assignment)
        if wanted_group == "none":
            rows = [s for s in rows if s.group_name is None]
        else:
            wanted_group = ""
    asked = [kind for kind in REQUIREMENTS if assignment.required()[kind]]
    sort = request.GET.get("sort", "student")
    if sort not in ("student", "group", "score", "late", *asked):
        sort = "student"
    descending = request.GET.get("dir") == "desc"
    # Sorted by username first so rows that tie keep a stable, readable order.
    rows.sort(key=_sort_key("student"))
    rows.sort(key=_sort_key(sort), reverse=descending)

    def header(key: str, label: str) -> dict:
        current = key == sort
        next_dir = "desc" if current and not descending else "asc"
        query = {"sort": key, "dir": next_dir}
        if wanted_group:
            query["group"] = wanted_group
        return {
            "label": label,
            "url": f"?{urlencode(query)}",
            "aria_sort": ("descending" if descending else "ascending") if current else None,
            "shown_sort": (gettext("descending") if descending else gettext("ascending"))
            if current
            else None,
            "next": gettext("descending") if next_dir == "desc" else gettext("ascending"),
        }

    headers = {
        "student": header("student", gettext("Student")),
        "group": header("group", gettext("Group")),
        "late": header("late", gettext("Late")),
        "score": header("score", gettext("Final score")),
    }
    requirement_headers = [header(kind, grading.REQUIREMENT_LABELS[kind].capitalize()) for kind in asked]
    lines = _class_rows(assignment, rows, asked)
    return render(
        request,
        "annotations/assignments/progress.html",
        {
            "nav": "courses",
            "course": course,
            "assignment": assignment,
            "rows": lines,
            "row_html": fragments.render_class_rows(request, lines),
            "headers": headers,
            "requirement_headers": requirement_headers,
            "groups": groups,
            "wanted_group": wanted_group,
            "sort": sort,
            "descending": descending,
            "total": len(rows),
            "complete": sum(1 for s in rows if s.complete),
            "late": sum(1 for s in rows if s.late),
        },
    )


# -- grading one student --------------------------------------------------------------------


def _grade_initial(grade) -> dict:
    if grade is None:
        return {"score": "", "feedback": "", "version": 0}
    score = "" if grade.score is None else f"{grade.score.normalize():f}"
    return {"score": score, "feedback": grade.feedback, "version": grade.version}


@login_required
@require_http_methods(["GET", "POST"])
def grade_edit(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    assignment = _graded_assignment(request, pk)
    student = selectors.student_of_course(assignment.course, user_id)
    status = 200
    conflict = None
    if request.method == "POST":
        form = GradeForm(request.POST)
        if form.is_valid():
            try:
                services.grade_set(
                    user=request.user,
                    assignment=assignment,
                    student=student,
                    score=form.cleaned_data["score"],
                    feedback=form.cleaned_data["feedback"],
                    expected_version=form.cleaned_data["version"],
                )
            except services.GradeConflict as error:
                conflict = error.current
                form = GradeForm(initial=_grade_initial(conflict))
                status = 409
            except ValidationError as error:
                add_service_errors(form, error)
                status = 400
            else:
                messages.success(
                    request, gettext("%(student)s's grade is saved.") % {"student": student.get_username()}
                )
                return redirect("assignments:grade", pk=assignment.pk, user_id=student.pk)
        else:
            status = 400
    progress = grading.student_progress(assignment, student)
    if request.method == "GET":
        form = GradeForm(initial=_grade_initial(progress.grade))
    form.fields["score"].widget.attrs["placeholder"] = f"{progress.auto_score}"
    form.fields["score"].help_text = (
        f"Leave empty to keep the automatic score, {progress.auto_score} of "
        f"{assignment.points.normalize():f} ({progress.formula})."
    )
    students = _students(assignment.course)
    index = next(i for i, s in enumerate(students) if s.pk == student.pk)
    return render(
        request,
        "annotations/assignments/grade.html",
        {
            "nav": "courses",
            "course": assignment.course,
            "assignment": assignment,
            "student": student,
            "progress": progress,
            "tallies": [(grading.REQUIREMENT_LABELS[k], t) for k, t in progress.tallies.items()],
            "work": _work_items(assignment, student),
            "form": form,
            "conflict": conflict,
            "previous": students[index - 1] if index > 0 else None,
            "next": students[index + 1] if index + 1 < len(students) else None,
        },
        status=status,
    )
