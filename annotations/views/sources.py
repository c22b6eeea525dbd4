"""A course's sources: its bibliography, and forms to add to it by hand or by pasting.

Members (and site staff) see the page; a course someone may not see is a 404. Only members
add: each form calls ``services.sources``, then redirects back with a message (an added
source, or the one already there, reused), or shows the page again with the errors (400).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_http_methods

from annotations import permissions, selectors
from annotations.forms import SourceForm, SourceImportForm, add_service_errors
from annotations.models import Course
from annotations.services import sources as services
from annotations.services.sources import ImportReport

REUSED = gettext_noop("Already in the bibliography — reused: {citation}")
ADDED = gettext_noop("Added: {citation}")


def _page(
    request: HttpRequest,
    course: Course,
    *,
    add_form: SourceForm | None = None,
    import_form: SourceImportForm | None = None,
    report: ImportReport | None = None,
    status: int = 200,
) -> HttpResponse:
    # The page shows the user's own and (for staff) hidden or waiting sources with their state,
    # and others' hidden ones as placeholders.
    sources = selectors.course_bibliography(course, request.user, placeholders=True)
    return render(
        request,
        "annotations/course_sources.html",
        {
            "nav": "courses",
            "course": course,
            "course_sources": [source for source in sources if source.course_id == course.pk],
            "reading_sources": [source for source in sources if source.course_id is None],
            "can_add": permissions.can_add_source(request.user, course),
            "can_teach": permissions.can_moderate(request.user, course),
            "add_form": add_form or SourceForm(prefix="add"),
            "import_form": import_form or SourceImportForm(prefix="import"),
            "report": report,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def course_sources(request: HttpRequest, pk: int) -> HttpResponse:
    course = selectors.course_for_user(request.user, pk)
    if request.method == "GET":
        return _page(request, course)
    if not permissions.can_add_source(request.user, course):
        raise PermissionDenied(services.NOT_A_MEMBER)
    if request.POST.get("form") == "import":
        return _import(request, course)
    return _add(request, course)


def _add(request: HttpRequest, course: Course) -> HttpResponse:
    form = SourceForm(request.POST, prefix="add")
    if form.is_valid():
        try:
            source, created = services.source_add(user=request.user, course=course, **form.source_fields())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            message = ADDED if created else REUSED
            messages.success(request, gettext(message).format(citation=source.citation))
            return redirect(f"{request.path}#{source.key}")
    return _page(request, course, add_form=form, status=400)


def _import(request: HttpRequest, course: Course) -> HttpResponse:
    form = SourceImportForm(request.POST, prefix="import")
    if form.is_valid():
        try:
            report = services.sources_import(user=request.user, course=course, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            status = 400 if report.errors and not (report.added or report.reused) else 200
            kept = None if report.errors else SourceImportForm(prefix="import")
            return _page(request, course, import_form=kept or form, report=report, status=status)
    return _page(request, course, import_form=form, status=400)
