"""The course services: who may act, and the rules every page and endpoint relies on."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from annotations.models import Course, CourseGroup, Membership
from annotations.models.courses import JOIN_CODE_ALPHABET, Role
from annotations.services import courses as services
from tests.factories import AnnotationFactory, GroupFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def messages_of(error: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return error.value.message_dict


# -- creating and changing a course ---------------------------------------------------


def test_a_course_is_created_with_its_creator_as_instructor_and_a_readable_code(paper, reader):
    reader.user_permissions.add(Permission.objects.get(codename="add_course"))

    course = services.course_create(user=reader, title="  Seminar ", term=" Fall ", reading=paper)

    assert (course.title, course.term, course.created_by) == ("Seminar", "Fall", reader)
    assert list(course.memberships.values_list("user__username", "role")) == [("reader", Role.INSTRUCTOR)]
    left, right = course.join_code.split("-")
    assert len(left) == len(right) == 4
    assert set(left + right) <= set(JOIN_CODE_ALPHABET)


def test_creating_needs_the_permission(paper, instructor):
    with pytest.raises(PermissionDenied):
        services.course_create(user=instructor, title="Mine", reading=paper)

    assert not Course.objects.filter(title="Mine").exists()


def test_a_course_needs_a_title(paper, curator):
    with pytest.raises(ValidationError) as error:
        services.course_create(user=curator, title="   ", reading=paper)

    assert "title" in messages_of(error)
    assert not Course.objects.exists()


def test_only_instructors_and_site_staff_update_a_course(course, instructor, ta, curator):
    services.course_update(user=instructor, course=course, title="New", term="")
    services.course_update(user=curator, course=course, title="Newer", term="T")

    with pytest.raises(PermissionDenied):
        services.course_update(user=ta, course=course, title="TA's", term="")
    course.refresh_from_db()
    assert (course.title, course.term) == ("Newer", "T")


# -- joining -------------------------------------------------------------------------


def test_joining_makes_a_student_in_no_group(course, reader):
    membership, created = services.course_join(user=reader, code=f" {course.join_code.lower()} ")

    assert created is True
    assert (membership.course, membership.role, membership.group) == (course, Role.STUDENT, None)


def test_joining_twice_is_harmless_and_keeps_the_role(course, instructor):
    membership, created = services.course_join(user=instructor, code=course.join_code)

    assert created is False
    assert membership.role == Role.INSTRUCTOR
    assert Membership.objects.filter(course=course, user=instructor).count() == 1


def test_an_unknown_code_is_refused(course, reader):
    with pytest.raises(ValidationError) as error:
        services.course_join(user=reader, code="ZZZZ-ZZZZ")

    assert messages_of(error) == {"code": [services.NO_SUCH_CODE]}


def test_a_disabled_code_is_refused(course, instructor, reader):
    services.course_set_joining(user=instructor, course=course, enabled=False)

    with pytest.raises(ValidationError) as error:
        services.course_join(user=reader, code=course.join_code)

    assert messages_of(error) == {"code": [services.CODE_DISABLED]}
    assert not Membership.objects.filter(user=reader).exists()


def test_a_regenerated_code_replaces_the_old_one(course, instructor, reader):
    old = course.join_code

    new = services.course_regenerate_code(user=instructor, course=course)

    assert new != old
    assert Course.objects.get(pk=course.pk).join_code == new
    with pytest.raises(ValidationError):
        services.course_join(user=reader, code=old)
    assert services.course_join(user=reader, code=new)[1] is True


@pytest.mark.parametrize("who", ["author", "ta", "other_instructor"])
def test_only_instructors_change_the_code_and_joining(course, request, who):
    user = request.getfixturevalue(who)

    with pytest.raises(PermissionDenied):
        services.course_regenerate_code(user=user, course=course)
    with pytest.raises(PermissionDenied):
        services.course_set_joining(user=user, course=course, enabled=False)


# -- members -------------------------------------------------------------------------


def test_a_member_is_added_by_username_with_a_role(course, instructor, reader):
    membership = services.membership_add(user=instructor, course=course, username=" reader ", role=Role.TA)

    assert (membership.user, membership.role) == (reader, Role.TA)


def test_adding_someone_twice_is_refused(course, instructor, author):
    with pytest.raises(ValidationError) as error:
        services.membership_add(user=instructor, course=course, username="author")

    assert messages_of(error) == {"username": [services.ALREADY_MEMBER.format(username="author")]}


def test_a_user_has_one_membership_so_one_group_per_course(course, author, group_b):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(course=course, user=author, group=group_b)


def test_the_database_keeps_staff_out_of_groups(course, ta, group_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(course=course, user=ta).update(group=group_a)


def test_moving_a_student_replaces_their_group(course, instructor, author, group_b):
    membership = Membership.objects.get(course=course, user=author)

    services.membership_move(user=instructor, membership=membership, group=group_b)
    assert Membership.objects.get(course=course, user=author).group == group_b

    services.membership_move(user=instructor, membership=membership, group=None)
    assert Membership.objects.get(course=course, user=author).group is None


def test_only_students_are_moved_and_only_within_the_course(course, other_course, instructor, ta, author):
    ta_membership = Membership.objects.get(course=course, user=ta)
    student = Membership.objects.get(course=course, user=author)

    with pytest.raises(ValidationError) as staff:
        services.membership_move(user=instructor, membership=ta_membership, group=GroupFactory(course=course))
    with pytest.raises(ValidationError) as elsewhere:
        services.membership_move(user=instructor, membership=student, group=GroupFactory(course=other_course))

    assert messages_of(staff) == {"group": [services.ONLY_STUDENTS_IN_GROUPS]}
    assert messages_of(elsewhere) == {"group": [services.GROUP_OF_OTHER_COURSE]}
    assert Membership.objects.get(pk=student.pk).group.name == "Group A"


def test_a_student_made_ta_leaves_their_group(course, instructor, author):
    membership = Membership.objects.get(course=course, user=author)

    changed = services.membership_set_role(user=instructor, membership=membership, role=Role.TA)

    assert (changed.role, changed.group) == (Role.TA, None)


def test_the_last_instructor_cannot_step_down_or_be_removed(course, instructor, curator):
    membership = Membership.objects.get(course=course, user=instructor)

    with pytest.raises(ValidationError) as stepped:
        services.membership_set_role(user=curator, membership=membership, role=Role.STUDENT)
    with pytest.raises(ValidationError) as removed:
        services.membership_remove(user=curator, membership=membership)

    assert messages_of(stepped) == {"role": [services.LAST_INSTRUCTOR]}
    assert messages_of(removed) == {"user": [services.LAST_INSTRUCTOR]}
    assert Membership.objects.get(pk=membership.pk).role == Role.INSTRUCTOR


def test_with_a_second_instructor_the_first_may_leave(course, instructor):
    MembershipFactory(course=course, role=Role.INSTRUCTOR)
    membership = Membership.objects.get(course=course, user=instructor)

    services.membership_remove(user=instructor, membership=membership)

    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_removing_a_member_keeps_their_work(course, instructor, author):
    note = AnnotationFactory(course=course, author=author)

    services.membership_remove(user=instructor, membership=Membership.objects.get(course=course, user=author))

    assert not Membership.objects.filter(course=course, user=author).exists()
    assert type(note).objects.filter(pk=note.pk).exists()


@pytest.mark.parametrize("who", ["groupmate", "ta", "other_instructor"])
def test_only_instructors_change_members(course, author, request, who):
    user = request.getfixturevalue(who)
    membership = Membership.objects.get(course=course, user=author)

    with pytest.raises(PermissionDenied):
        services.membership_set_role(user=user, membership=membership, role=Role.TA)
    with pytest.raises(PermissionDenied):
        services.membership_remove(user=user, membership=membership)
    with pytest.raises(PermissionDenied):
        services.membership_add(user=user, course=course, username="reader")


# -- groups --------------------------------------------------------------------------


def test_groups_are_created_renamed_and_deleted(course, instructor, author, group_a):
    group = services.group_create(user=instructor, course=course, name=" Group C ")
    assert group.name == "Group C"

    services.group_rename(user=instructor, group=group, name="Group D")
    assert CourseGroup.objects.get(pk=group.pk).name == "Group D"

    services.group_delete(user=instructor, group=group_a)
    assert not CourseGroup.objects.filter(pk=group_a.pk).exists()
    assert Membership.objects.get(course=course, user=author).group is None


def test_group_names_are_unique_in_a_course_but_not_across_courses(
    course, other_course, instructor, group_a, curator
):
    with pytest.raises(ValidationError) as error:
        services.group_create(user=instructor, course=course, name="Group A")

    assert messages_of(error) == {"name": [services.GROUP_NAME_TAKEN.format(name="Group A")]}
    assert services.group_create(user=curator, course=other_course, name="Group A").course == other_course


def test_a_group_needs_a_name(course, instructor):
    with pytest.raises(ValidationError) as error:
        services.group_create(user=instructor, course=course, name="  ")

    assert "name" in messages_of(error)
    assert not course.groups.exists()


def test_a_group_with_annotations_is_kept(course, instructor, author, group_a):
    AnnotationFactory(course=course, author=author, group=group_a)

    with pytest.raises(ValidationError) as error:
        services.group_delete(user=instructor, group=group_a)

    assert messages_of(error) == {"group": [services.GROUP_HAS_WORK]}
    assert CourseGroup.objects.filter(pk=group_a.pk).exists()


@pytest.mark.parametrize("who", ["author", "ta", "other_instructor"])
def test_only_instructors_manage_groups(course, group_a, request, who):
    user = request.getfixturevalue(who)

    with pytest.raises(PermissionDenied):
        services.group_create(user=user, course=course, name="Mine")
    with pytest.raises(PermissionDenied):
        services.group_rename(user=user, group=group_a, name="Mine")
    with pytest.raises(PermissionDenied):
        services.group_delete(user=user, group=group_a)
    assert list(course.groups.values_list("name", flat=True)) == ["Group A"]
