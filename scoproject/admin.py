"""The admin site: site staff curate everything; a course's TAs and instructors come in to
moderate and grade their own courses, without anyone having to set ``is_staff`` for them.

``CourseScopedAdmin`` is the rule for course work (each model names its way to its course);
``SiteStaffOnlyAdmin`` keeps the reading's records and the courses themselves with site staff.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from annotations import permissions
from annotations.models.courses import Membership, Role

TEACHING_ROLES = (Role.TA, Role.INSTRUCTOR)


def taught_course_ids(request: HttpRequest, roles: tuple[str, ...] = TEACHING_ROLES) -> frozenset[int]:
    """The courses the signed-in user teaches in one of ``roles``, read once per request
    (the admin index asks every model admin)."""
    user = request.user
    if not user.is_authenticated:
        return frozenset()
    cache: dict[tuple[str, ...], frozenset[int]] = request.__dict__.setdefault("_taught_course_ids", {})
    if roles not in cache:
        cache[roles] = frozenset(
            Membership.objects.filter(user=user, role__in=roles).values_list("course_id", flat=True)
        )
    return cache[roles]


class SiteAdmin(admin.AdminSite):
    site_header = _("SCO reading — administration")
    site_title = _("SCO reading admin")
    index_title = _("Records, courses and moderation")

    def has_permission(self, request: HttpRequest) -> bool:
        """Active site staff, and anyone who teaches a course (they see only its work)."""
        user = request.user
        if not (user.is_authenticated and user.is_active):
            return False
        return user.is_staff or user.is_superuser or bool(taught_course_ids(request))


class SiteStaffOnlyAdmin(admin.ModelAdmin):
    """The reading's records, courses and memberships: site staff (superusers) only, whatever
    model permissions a user was granted for the app (``add_course`` lets one create a course
    in the app, not manage every course here)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.is_site_staff(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.is_site_staff(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return permissions.is_site_staff(request.user) and super().has_add_permission(request, *args)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.is_site_staff(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.is_site_staff(request.user) and super().has_delete_permission(request, obj)


class CourseScopedAdmin(admin.ModelAdmin):
    """Course work: site staff see all of it; a course's TAs and instructors see their
    courses' rows only, and another course's row is a 404 as if it did not exist.

    ``course_path`` is the lookup from the model to its course. Course staff only read unless
    ``staff_change_roles`` (or ``staff_add_roles``/``staff_delete_roles``) name their role;
    the services behind each write check the finer rules again.
    """

    course_path = "course"
    staff_change_roles: tuple[str, ...] = ()
    staff_add_roles: tuple[str, ...] = ()
    staff_delete_roles: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        queryset = super().get_queryset(request)
        if permissions.is_site_staff(request.user):
            return queryset
        return queryset.filter(**{f"{self.course_path}__in": taught_course_ids(request)})

    def course_id_of(self, obj: Any) -> int | None:
        *path, last = self.course_path.split("__")
        for step in path:
            obj = getattr(obj, step, None)
            if obj is None:
                return None
        return getattr(obj, f"{last}_id", None)

    def _staff_may(self, request: HttpRequest, obj: Any, roles: tuple[str, ...]) -> bool:
        courses = taught_course_ids(request, roles) if roles else frozenset()
        if obj is None:
            return bool(courses)
        return self.course_id_of(obj) in courses

    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.is_site_staff(request.user) or bool(taught_course_ids(request))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if permissions.is_site_staff(request.user):
            return super().has_view_permission(request, obj)
        return self._staff_may(request, obj, TEACHING_ROLES)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if permissions.is_site_staff(request.user):
            return super().has_change_permission(request, obj)
        return self._staff_may(request, obj, self.staff_change_roles)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        if permissions.is_site_staff(request.user):
            return super().has_add_permission(request, *args)
        return self._staff_may(request, None, self.staff_add_roles)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if permissions.is_site_staff(request.user):
            return super().has_delete_permission(request, obj)
        return self._staff_may(request, obj, self.staff_delete_roles)

    def get_list_filter(self, request: HttpRequest) -> list:
        # A filter on a relation (course, assignment, actor) offers only the values of rows the
        # user may see: the plain one would list every course's titles and every user.
        return [
            (name, admin.RelatedOnlyFieldListFilter)
            if isinstance(name, str) and get_fields_from_path(self.model, name)[-1].is_relation
            else name
            for name in super().get_list_filter(request)
        ]


class ParentScopedInline(admin.options.InlineModelAdmin):
    """A read-only inline shown to whoever may view its parent (course staff have no model
    permissions of their own; the parent's change page has already checked them)."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True
