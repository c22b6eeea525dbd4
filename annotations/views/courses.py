"""Course pages: my courses, joining, creating, and the instructor's management pages.

Every page needs a signed-in user. A course the user may not see is a 404 (the selectors
say so); an act on a course they see but may not do is a 403. Each management action is
its own small POST form: it calls the service, then redirects back with a message, or
shows the page again with the error beside the field (400). Nothing needs JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotations import permissions, selectors
from annotations.forms import (
    CourseCreateForm,
    CourseForm,
    GroupForm,
    JoinForm,
    MemberAddForm,
    MemberGroupForm,
    MemberRoleForm,
    add_service_errors,
)
from annotations.models import Course, CourseGroup, Membership
from annotations.models.courses import Role
from annotations.services import courses as services

COURSES_PER_PAGE = 50


def _course(request: HttpRequest, pk: int) -> Course:
    """The course if the user may see it (else 404), with the user's membership remembered."""
    course = selectors.course_with_my_membership(request.user, pk)
    permissions.remember_membership(request.user, course.pk, _my_membership(course))
    return course


def _managed_course(request: HttpRequest, pk: int) -> Course:
    course = _course(request, pk)
    if not permissions.can_manage_course(request.user, course):
        raise PermissionDenied(services.NOT_INSTRUCTOR)
    return course


def _my_membership(course: Course) -> Membership | None:
    return course.my_memberships[0] if course.my_memberships else None


def _to_manage(course: Course) -> HttpResponse:
    return redirect("courses:manage", pk=course.pk)


# -- my courses, joining, creating ----------------------------------------------------


def _list_page(request: HttpRequest, join_form: JoinForm, *, status: int = 200) -> HttpResponse:
    page = Paginator(selectors.courses_with_my_membership(request.user), COURSES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "nav": "courses",
        "page": page,
        "courses": page.object_list,
        "join_form": join_form,
        "can_create": permissions.can_create_course(request.user),
        "is_site_staff": permissions.is_site_staff(request.user),
    }
    return render(request, "annotations/courses/list.html", context, status=status)


@login_required
@require_GET
def course_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request, JoinForm())


@login_required
@require_POST
def course_join(request: HttpRequest) -> HttpResponse:
    form = JoinForm(request.POST)
    if form.is_valid():
        try:
            membership, created = services.course_join(user=request.user, code=form.cleaned_data["code"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            course = membership.course
            if created:
                messages.success(request, gettext("You joined %(course)s.") % {"course": course})
            else:
                messages.info(
                    request, gettext("You are already a member of %(course)s.") % {"course": course}
                )
            return redirect(course)
    return _list_page(request, form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def course_create(request: HttpRequest) -> HttpResponse:
    if not permissions.can_create_course(request.user):
        raise PermissionDenied(services.NOT_ALLOWED_TO_CREATE)
    form = CourseCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            course = services.course_create(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                gettext("The course is created. Students join it with the code %(code)s.")
                % {"code": course.join_code},
            )
            return redirect(course)
    return render(
        request,
        "annotations/courses/create.html",
        {"nav": "courses", "form": form},
        status=400 if form.errors else 200,
    )


# -- one course -----------------------------------------------------------------------


@login_required
@require_GET
def course_detail(request: HttpRequest, pk: int) -> HttpResponse:
    course = _course(request, pk)
    can_teach = permissions.can_teach(request.user, course)
    context = {
        "nav": "courses",
        "course": course,
        "membership": _my_membership(course),
        "can_teach": can_teach,
        "can_manage": permissions.can_manage_course(request.user, course),
        "members": list(selectors.memberships_for_course(course)) if can_teach else [],
        # The review queue's open items, for the staff's link to it.
        "moderation_open": course.moderation_items.filter(status="open").count() if can_teach else 0,
        # An empty course's page says what to do first, per role.
        "has_work": selectors.course_has_work(course),
    }
    return render(request, "annotations/courses/detail.html", context)


# -- managing a course ----------------------------------------------------------------


@dataclass
class MemberRow:
    membership: Membership
    role_form: MemberRoleForm
    group_form: MemberGroupForm | None


@dataclass
class GroupRow:
    group: CourseGroup
    rename_form: GroupForm


def _manage_page(
    request: HttpRequest,
    course: Course,
    *,
    failed: tuple[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The management page; ``failed`` is the one form that was refused, shown with its errors."""
    bound = dict([failed]) if failed else {}
    groups = list(selectors.groups_of_course(course))
    members = []
    for membership in selectors.memberships_for_course(course):
        role_key, group_key = f"role-{membership.user_id}", f"group-{membership.user_id}"
        group_form = bound.get(group_key)  # a refused move is shown, even for a TA's row
        if group_form is None and membership.role == Role.STUDENT:
            group_form = MemberGroupForm(
                prefix=group_key, groups=groups, initial={"group": membership.group_id}
            )
        members.append(
            MemberRow(
                membership,
                bound.get(role_key) or MemberRoleForm(prefix=role_key, initial={"role": membership.role}),
                group_form,
            )
        )
    context = {
        "nav": "courses",
        "course": course,
        "course_form": bound.get("course")
        or CourseForm(prefix="course", initial={"title": course.title, "term": course.term}),
        "member_form": bound.get("member") or MemberAddForm(prefix="member"),
        "group_form": bound.get("group") or GroupForm(prefix="group"),
        "members": members,
        "groups": [
            GroupRow(
                group,
                bound.get(f"rename-{group.pk}")
                or GroupForm(prefix=f"rename-{group.pk}", initial={"name": group.name}),
            )
            for group in groups
        ],
    }
    return render(request, "annotations/courses/manage.html", context, status=status)


def _act(
    request: HttpRequest,
    course: Course,
    form: forms.Form,
    key: str,
    act: Callable[[dict], str],
) -> HttpResponse:
    """Run one management action: a message and back to the page, or the page again with the error.

    ``act`` takes the form's cleaned data, calls the service and returns the success message.
    """
    if form.is_valid():
        try:
            message = act(form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, message)
            return _to_manage(course)
    return _manage_page(request, course, failed=(key, form), status=400)


@login_required
@require_GET
def course_manage(request: HttpRequest, pk: int) -> HttpResponse:
    return _manage_page(request, _managed_course(request, pk))


@login_required
@require_POST
def course_edit(request: HttpRequest, pk: int) -> HttpResponse:
    course = _managed_course(request, pk)

    def act(data: dict) -> str:
        services.course_update(user=request.user, course=course, title=data["title"], term=data["term"])
        return "The course's title and term are saved."

    return _act(request, course, CourseForm(request.POST, prefix="course"), "course", act)


@login_required
@require_POST
def course_regenerate_code(request: HttpRequest, pk: int) -> HttpResponse:
    course = _managed_course(request, pk)
    code = services.course_regenerate_code(user=request.user, course=course)
    messages.success(
        request, gettext("The new join code is %(code)s; the old one no longer works.") % {"code": code}
    )
    return _to_manage(course)


@login_required
@require_POST
def course_joining(request: HttpRequest, pk: int) -> HttpResponse:
    course = _managed_course(request, pk)
    enabled = forms.BooleanField(required=False).to_python(request.POST.get("enabled"))
    services.course_set_joining(user=request.user, course=course, enabled=enabled)
    if enabled:
        messages.success(
            request,
            gettext("Joining is on: students can join with the code %(join_code)s.")
            % {"join_code": course.join_code},
        )
    else:
        messages.success(request, gettext("Joining is off: the code no longer lets anyone join."))
    return _to_manage(course)


@login_required
@require_POST
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    course = _managed_course(request, pk)

    def act(data: dict) -> str:
        membership = services.membership_add(
            user=request.user, course=course, username=data["username"], role=data["role"]
        )
        return f"{membership.user.username} is now in the course as {membership.get_role_display()}."

    return _act(request, course, MemberAddForm(request.POST, prefix="member"), "member", act)


@login_required
@require_POST
def member_role(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    course = _managed_course(request, pk)
    membership = selectors.membership_of_member(course, user_id)
    key = f"role-{user_id}"

    def act(data: dict) -> str:
        changed = services.membership_set_role(user=request.user, membership=membership, role=data["role"])
        return f"{membership.user.username} is now in the course as {changed.get_role_display()}."

    response = _act(request, course, MemberRoleForm(request.POST, prefix=key), key, act)
    if response.status_code == 302 and membership.user_id == request.user.pk:
        # Instructors who made themselves TA or student may no longer manage the course.
        return redirect(course)
    return response


@login_required
@require_POST
def member_group(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    course = _managed_course(request, pk)
    membership = selectors.membership_of_member(course, user_id)
    groups = list(selectors.groups_of_course(course))
    key = f"group-{user_id}"

    def act(data: dict) -> str:
        group = next((g for g in groups if g.pk == data["group"]), None)
        services.membership_move(user=request.user, membership=membership, group=group)
        where = f"in {group.name}" if group else "in no group"
        return f"{membership.user.username} is now {where}."

    return _act(request, course, MemberGroupForm(request.POST, prefix=key, groups=groups), key, act)


def _confirm_page(request: HttpRequest, context: dict, *, status: int = 200) -> HttpResponse:
    return render(request, "annotations/courses/confirm.html", {"nav": "courses", **context}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def member_remove(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    course = _managed_course(request, pk)
    membership = selectors.membership_of_member(course, user_id)
    username = membership.user.username
    context = {
        "course": course,
        "title": f"Remove {username} from {course.title}?",
        "explanation": (
            f"{username} will no longer see the course. What they wrote stays in the course; "
            "you can add them again later."
        ),
        "action": "Remove",
    }
    if request.method == "POST":
        try:
            services.membership_remove(user=request.user, membership=membership)
        except ValidationError as error:
            return _confirm_page(request, {**context, "errors": error.messages}, status=400)
        messages.success(
            request,
            gettext("%(username)s is no longer a member of %(title)s.")
            % {"username": username, "title": course.title},
        )
        if membership.user_id == request.user.pk:
            return redirect("courses:list")
        return _to_manage(course)
    return _confirm_page(request, context)


@login_required
@require_POST
def group_create(request: HttpRequest, pk: int) -> HttpResponse:
    course = _managed_course(request, pk)

    def act(data: dict) -> str:
        group = services.group_create(user=request.user, course=course, name=data["name"])
        return f"The group {group.name} is created."

    return _act(request, course, GroupForm(request.POST, prefix="group"), "group", act)


@login_required
@require_POST
def group_rename(request: HttpRequest, pk: int, group_id: int) -> HttpResponse:
    course = _managed_course(request, pk)
    group = selectors.group_of_course(course, group_id)
    key = f"rename-{group_id}"

    def act(data: dict) -> str:
        old = group.name
        services.group_rename(user=request.user, group=group, name=data["name"])
        return f"The group {old} is now called {group.name}."

    return _act(request, course, GroupForm(request.POST, prefix=key), key, act)


@login_required
@require_http_methods(["GET", "POST"])
def group_delete(request: HttpRequest, pk: int, group_id: int) -> HttpResponse:
    course = _managed_course(request, pk)
    group = selectors.group_of_course(course, group_id)
    context = {
        "course": course,
        "title": f"Delete the group {group.name}?",
        "explanation": (
            f"Its {group.member_count} student(s) will be in no group until you move them. "
            "A group with annotations written for it cannot be deleted."
        ),
        "action": "Delete the group",
    }
    if request.method == "POST":
        try:
            services.group_delete(user=request.user, group=group)
        except ValidationError as error:
            return _confirm_page(request, {**context, "errors": error.messages}, status=400)
        messages.success(request, gettext("The group %(name)s is deleted.") % {"name": group.name})
        return _to_manage(course)
    return _confirm_page(request, context)
