"""Writes for courses, their join codes, members and groups."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from annotations import permissions
from annotations.models import Course, CourseGroup, Document, Membership
from annotations.models.courses import Role, new_join_code

NOT_ALLOWED_TO_CREATE = _("Only instructors can create courses.")
NOT_INSTRUCTOR = _("Only the course's instructors can do this.")
NO_SUCH_CODE = _("No course has this join code. Check it with your instructor.")
CODE_DISABLED = _("Joining this course with its code is switched off. Ask your instructor.")
NO_SUCH_USER = _("There is no account with the username “{username}”.")
ALREADY_MEMBER = _("{username} is already a member of this course.")
LAST_INSTRUCTOR = _(
    "A course needs at least one instructor: add another before removing or changing this one."
)
ONLY_STUDENTS_IN_GROUPS = _("Only students are placed in groups.")
GROUP_OF_OTHER_COURSE = _("That group belongs to another course.")
GROUP_NAME_TAKEN = _("This course already has a group called “{name}”.")
GROUP_HAS_WORK = _("This group has annotations written for it, so it cannot be deleted; rename it instead.")


def _require_manager(user, course: Course) -> None:
    if not permissions.can_manage_course(user, course):
        raise PermissionDenied(NOT_INSTRUCTOR)


def normalise_code(code: str) -> str:
    return "".join(code.split()).upper()


def course_create(*, user, title: str, term: str = "", reading: Document) -> Course:
    """A new course with ``user`` as its instructor and a fresh join code."""
    if not permissions.can_create_course(user):
        raise PermissionDenied(NOT_ALLOWED_TO_CREATE)
    course = Course(title=title.strip(), term=term.strip(), reading=reading, created_by=user)
    course.full_clean()
    with transaction.atomic():
        course.save()
        Membership.objects.create(course=course, user=user, role=Role.INSTRUCTOR)
    return course


def course_update(*, user, course: Course, title: str, term: str) -> Course:
    _require_manager(user, course)
    course.title, course.term = title.strip(), term.strip()
    course.full_clean()
    course.save(update_fields=["title", "term"])
    return course


def course_join(*, user, code: str) -> tuple[Membership, bool]:
    """Join the course whose code this is, as a student; joining twice is harmless.

    Returns the membership and whether it is new.
    """
    course = Course.objects.filter(join_code=normalise_code(code)).first()
    if course is None:
        raise ValidationError({"code": NO_SUCH_CODE})
    existing = Membership.objects.filter(course=course, user=user).first()
    if existing:
        return existing, False
    if not course.join_enabled:
        raise ValidationError({"code": CODE_DISABLED})
    try:
        with transaction.atomic():
            return Membership.objects.create(course=course, user=user, role=Role.STUDENT), True
    except IntegrityError:  # the same student joined twice at once
        return Membership.objects.get(course=course, user=user), False


def course_regenerate_code(*, user, course: Course) -> str:
    """A new join code; the old one stops working at once."""
    _require_manager(user, course)
    with transaction.atomic():
        for _ in range(5):
            code = new_join_code()
            if not Course.objects.filter(join_code=code).exists():
                break
        course.join_code = code
        course.save(update_fields=["join_code"])
    return code


def course_set_joining(*, user, course: Course, enabled: bool) -> None:
    _require_manager(user, course)
    course.join_enabled = enabled
    course.save(update_fields=["join_enabled"])


def _instructor_count(course: Course) -> int:
    return course.memberships.filter(role=Role.INSTRUCTOR).count()


def membership_add(*, user, course: Course, username: str, role: str = Role.STUDENT) -> Membership:
    _require_manager(user, course)
    member = get_user_model().objects.filter(username=username.strip()).first()
    if member is None:
        raise ValidationError({"username": NO_SUCH_USER.format(username=username.strip())})
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of {', '.join(Role.values)}."})
    try:
        with transaction.atomic():
            return Membership.objects.create(course=course, user=member, role=role)
    except IntegrityError:
        raise ValidationError({"username": ALREADY_MEMBER.format(username=member.username)}) from None


def membership_set_role(*, user, membership: Membership, role: str) -> Membership:
    _require_manager(user, membership.course)
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of {', '.join(Role.values)}."})
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        if (
            locked.role == Role.INSTRUCTOR
            and role != Role.INSTRUCTOR
            and _instructor_count(locked.course) == 1
        ):
            raise ValidationError({"role": LAST_INSTRUCTOR})
        locked.role = role
        if role != Role.STUDENT:
            locked.group = None
        locked.save(update_fields=["role", "group"])
    return locked


def membership_remove(*, user, membership: Membership) -> None:
    """Take someone out of a course. Their work stays in the course; they no longer see it."""
    _require_manager(user, membership.course)
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        if locked.role == Role.INSTRUCTOR and _instructor_count(locked.course) == 1:
            raise ValidationError({"user": LAST_INSTRUCTOR})
        locked.delete()


def membership_move(*, user, membership: Membership, group: CourseGroup | None) -> Membership:
    """Put a student in a group (or in none); a student is in at most one group of a course."""
    _require_manager(user, membership.course)
    if membership.role != Role.STUDENT:
        raise ValidationError({"group": ONLY_STUDENTS_IN_GROUPS})
    if group is not None and group.course_id != membership.course_id:
        raise ValidationError({"group": GROUP_OF_OTHER_COURSE})
    membership.group = group
    membership.save(update_fields=["group"])
    return membership


def group_create(*, user, course: Course, name: str) -> CourseGroup:
    _require_manager(user, course)
    name = name.strip()
    group = CourseGroup(course=course, name=name)
    group.full_clean(exclude=["course"], validate_unique=False)
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError:
        raise ValidationError({"name": GROUP_NAME_TAKEN.format(name=name)}) from None
    return group


def group_rename(*, user, group: CourseGroup, name: str) -> CourseGroup:
    _require_manager(user, group.course)
    name = name.strip()
    if CourseGroup.objects.filter(course=group.course, name=name).exclude(pk=group.pk).exists():
        raise ValidationError({"name": GROUP_NAME_TAKEN.format(name=name)})
    group.name = name
    group.full_clean(exclude=["course"], validate_unique=False)
    group.save(update_fields=["name"])
    return group


def group_delete(*, user, group: CourseGroup) -> None:
    """Delete an empty-of-work group; its students are left without a group."""
    _require_manager(user, group.course)
    if group.annotations.exists():
        raise ValidationError({"group": GROUP_HAS_WORK})
    group.delete()
