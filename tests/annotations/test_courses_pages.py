"""Course pages: my courses, joining, creating, a course, and managing it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from annotations.models import Course, CourseGroup, Membership
from annotations.models.courses import Role
from annotations.services import courses as services
from tests.factories import AnnotationFactory, CourseFactory, GroupFactory, MembershipFactory, UserFactory
from tests.helpers import queries_for

pytestmark = pytest.mark.django_db

LIST = reverse("courses:list")
JOIN = reverse("courses:join")
CREATE = reverse("courses:create")


def detail(course) -> str:
    return reverse("courses:detail", kwargs={"pk": course.pk})


def manage(course, name: str = "manage", **kwargs) -> str:
    return reverse(f"courses:{name}", kwargs={"pk": course.pk, **kwargs})


def may_create_courses(user) -> None:
    user.user_permissions.add(Permission.objects.get(codename="add_course"))


@pytest.fixture
def as_user(client, request):
    """Sign the client in as one of the named users of ``conftest``."""

    def sign_in(name: str):
        client.force_login(request.getfixturevalue(name))
        return client

    return sign_in


# -- every page needs a login ---------------------------------------------------------


@pytest.mark.parametrize("name", ["list", "create", "detail", "manage"])
def test_anonymous_visitors_are_sent_to_log_in(client, course, name):
    url = {"list": LIST, "create": CREATE, "detail": detail(course), "manage": manage(course)}[name]

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


# -- my courses ---------------------------------------------------------------------


def test_my_courses_lists_mine_with_my_role_and_group(as_user, course, other_course, author):
    text = as_user("author").get(LIST).content.decode()

    assert "SCO Seminar" in text
    assert "Another seminar" not in text
    assert "Your role: <strong>student</strong>, in <strong>Group A</strong>." in text
    assert f'href="{reverse("annotate:reading", kwargs={"pk": course.pk})}"' in text


def test_a_student_in_no_group_is_told_so(as_user, ungrouped_student):
    assert "in no group yet" in as_user("ungrouped_student").get(LIST).content.decode()


def test_with_no_course_the_page_says_to_join_with_a_code(as_user, outsider, course):
    text = as_user("outsider").get(LIST).content.decode()

    assert "You are not in a course yet." in text
    assert "type it below to join your course" in text
    assert '<label for="id_code">Join code</label>' in text
    assert "SCO Seminar" not in text
    assert "Create a course" not in text


def test_the_create_link_is_only_for_those_who_may_create(as_user, instructor, author):
    may_create_courses(instructor)

    assert f'href="{CREATE}"' in as_user("instructor").get(LIST).content.decode()
    assert f'href="{CREATE}"' not in as_user("author").get(LIST).content.decode()


def test_site_staff_see_every_course(as_user, curator, course, other_course):
    text = as_user("curator").get(LIST).content.decode()

    assert "SCO Seminar" in text
    assert "Another seminar" in text
    assert "You see this course as site staff." in text


def test_my_courses_runs_a_fixed_number_of_queries(as_user, author, curator, paper):
    client = as_user("author")
    before = queries_for(client, LIST)
    for _ in range(4):
        course = CourseFactory(reading=paper)
        MembershipFactory(course=course, user=author, group=GroupFactory(course=course))
        MembershipFactory.create_batch(3, course=course)

    assert queries_for(client, LIST) == before
    staff = as_user("curator")
    staff_before = queries_for(staff, LIST)
    CourseFactory.create_batch(3, reading=paper)
    assert queries_for(staff, LIST) == staff_before


# -- joining ------------------------------------------------------------------------


def test_joining_with_the_code_makes_me_a_student(as_user, outsider, course):
    response = as_user("outsider").post(JOIN, {"code": course.join_code.lower()}, follow=True)

    membership = Membership.objects.get(user=outsider, course=course)
    assert membership.role == Role.STUDENT
    assert membership.group is None
    assert response.redirect_chain == [(detail(course), 302)]
    assert "You joined SCO Seminar" in response.content.decode()


def test_joining_twice_is_harmless(as_user, author, course):
    response = as_user("author").post(JOIN, {"code": course.join_code}, follow=True)

    assert Membership.objects.filter(user=author, course=course).count() == 1
    assert Membership.objects.get(user=author, course=course).group.name == "Group A"
    assert "You are already a member of SCO Seminar" in response.content.decode()


@pytest.mark.parametrize(
    ("code", "message"),
    [("NOPE-NOPE", services.NO_SUCH_CODE), ("", "This field is required.")],
)
def test_a_bad_code_shows_the_list_again_with_the_error(as_user, outsider, course, code, message):
    response = as_user("outsider").post(JOIN, {"code": code})

    assert response.status_code == 400
    assert str(message) in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Membership.objects.filter(user=outsider).exists()


def test_a_disabled_code_is_refused(as_user, outsider, course):
    course.join_enabled = False
    course.save()

    response = as_user("outsider").post(JOIN, {"code": course.join_code})

    assert response.status_code == 400
    assert "Joining this course with its code is switched off" in response.content.decode()
    assert not Membership.objects.filter(user=outsider).exists()


def test_a_regenerated_code_makes_the_old_one_fail(as_user, instructor, outsider, course):
    old = course.join_code
    as_user("instructor").post(manage(course, "regenerate-code"))
    course.refresh_from_db()

    refused = as_user("outsider").post(JOIN, {"code": old})
    joined = as_user("outsider").post(JOIN, {"code": course.join_code})

    assert course.join_code != old
    assert refused.status_code == 400
    assert joined.status_code == 302
    assert Membership.objects.filter(user=outsider, course=course).exists()


def test_joining_takes_a_post(as_user, outsider):
    assert as_user("outsider").get(JOIN).status_code == 405


# -- creating a course -------------------------------------------------------------


@pytest.mark.parametrize("who", ["outsider", "author", "instructor"])
def test_creating_a_course_needs_the_permission(as_user, paper, course, who):
    client = as_user(who)

    assert client.get(CREATE).status_code == 403
    refused = client.post(CREATE, {"title": "Mine", "term": "", "reading": paper.pk})
    assert refused.status_code == 403
    assert "Only instructors can create courses." in refused.content.decode()
    assert not Course.objects.filter(title="Mine").exists()


def test_an_instructor_with_the_permission_creates_a_course(as_user, instructor, paper):
    may_create_courses(instructor)
    client = as_user("instructor")

    form = client.get(CREATE).content.decode()
    response = client.post(
        CREATE, {"title": " New seminar ", "term": "Fall 2027", "reading": paper.pk}, follow=True
    )

    assert '<label for="id_reading">Reading</label>' in form
    course = Course.objects.get(title="New seminar")
    assert (course.term, course.reading, course.created_by) == ("Fall 2027", paper, instructor)
    assert Membership.objects.get(course=course).user == instructor
    assert Membership.objects.get(course=course).role == Role.INSTRUCTOR
    assert response.redirect_chain == [(detail(course), 302)]
    assert f"Students join it with the code {course.join_code}" in response.content.decode()


def test_a_course_without_a_title_is_refused(as_user, instructor, paper):
    may_create_courses(instructor)

    response = as_user("instructor").post(CREATE, {"title": "", "term": "", "reading": paper.pk})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert Course.objects.count() == 1  # the instructor's own


# -- a course ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["outsider", "other_course_student", "other_instructor"])
def test_a_course_i_am_not_in_is_not_found(as_user, course, other_course, who):
    assert as_user(who).get(detail(course)).status_code == 404
    assert as_user(who).get(manage(course)).status_code == 404


def test_a_missing_course_is_not_found(as_user, author):
    assert as_user("author").get(reverse("courses:detail", kwargs={"pk": 99999})).status_code == 404


def test_a_student_sees_the_course_the_reading_and_their_group_only(as_user, course, author, groupmate):
    text = as_user("author").get(detail(course)).content.decode()

    assert "<h1>SCO Seminar</h1>" in text
    assert f'href="{reverse("annotate:reading", kwargs={"pk": course.pk})}"' in text
    assert "<dt>Your role</dt>\n  <dd>student</dd>" in text
    assert "<dd>Group A</dd>" in text
    assert course.join_code not in text
    assert "groupmate" not in text
    assert manage(course) not in text


def test_the_ta_sees_the_members_with_roles_and_groups_but_not_the_code(
    as_user, course, ta, author, other_group_student, ungrouped_student
):
    text = as_user("ta").get(detail(course)).content.decode()

    assert "Members (4)" in text
    assert '<th scope="row">author</th>' in text
    assert "<td>Group B</td>" in text
    assert "<td>no group</td>" in text
    assert course.join_code not in text
    assert manage(course) not in text


def test_the_instructor_sees_the_code_whether_joining_is_on_and_the_manage_link(
    as_user, course, instructor, author
):
    text = as_user("instructor").get(detail(course)).content.decode()

    assert f'<code class="join-code">{course.join_code}</code>' in text
    assert "on: students can join with the code" in text
    assert f'href="{manage(course)}"' in text
    assert '<th scope="row">author</th>' in text


def test_site_staff_see_a_course_they_are_not_in(as_user, course, curator, instructor):
    text = as_user("curator").get(detail(course)).content.decode()

    assert "site staff (not a member)" in text
    assert course.join_code in text
    assert '<th scope="row">instructor</th>' in text


def test_a_course_page_runs_a_fixed_number_of_queries(as_user, course, instructor, group_a):
    client = as_user("instructor")
    before = queries_for(client, detail(course))
    MembershipFactory.create_batch(5, course=course, group=group_a)
    MembershipFactory.create_batch(2, course=course, role=Role.TA)

    assert queries_for(client, detail(course)) == before


# -- managing: who may ---------------------------------------------------------------


@pytest.mark.parametrize("who", ["author", "ta"])
def test_students_and_tas_may_not_manage(as_user, course, group_a, who):
    client = as_user(who)

    response = client.get(manage(course))
    assert response.status_code == 403
    assert "Only the course&#x27;s instructors can do this." in response.content.decode()
    assert client.post(manage(course, "regenerate-code")).status_code == 403
    assert client.post(manage(course, "group-create"), {"group-name": "Mine"}).status_code == 403
    assert (
        client.post(manage(course, "edit"), {"course-title": "Hacked", "course-term": ""}).status_code == 403
    )
    course.refresh_from_db()
    assert course.title == "SCO Seminar"
    assert not CourseGroup.objects.filter(name="Mine").exists()


def test_others_cannot_even_find_the_actions(as_user, course, other_instructor, author):
    client = as_user("other_instructor")

    assert client.post(manage(course, "regenerate-code")).status_code == 404
    response = client.post(manage(course, "member-remove", user_id=author.pk))
    assert response.status_code == 404
    assert Membership.objects.filter(user=author, course=course).exists()


def test_the_manage_page_labels_every_control(as_user, course, instructor, author, ta, group_a):
    text = as_user("instructor").get(manage(course)).content.decode()

    assert f'<code class="join-code">{course.join_code}</code>' in text
    assert f'<label for="id_role-{author.pk}-role" class="visually-hidden">Role of author</label>' in text
    assert f'<label for="id_group-{author.pk}-group" class="visually-hidden">Group of author</label>' in text
    assert f'id="id_group-{ta.pk}-group"' not in text  # only students are in groups
    assert (
        f'<label for="id_rename-{group_a.pk}-name" class="visually-hidden">New name for Group A</label>'
        in text
    )
    assert '<label for="id_member-username">Username</label>' in text
    assert '<label for="id_group-name">Group name</label>' in text
    assert '<label for="id_course-title">Title</label>' in text


def test_site_staff_may_manage_any_course(as_user, course, curator, instructor):
    assert as_user("curator").get(manage(course)).status_code == 200


def test_the_manage_page_runs_a_fixed_number_of_queries(as_user, course, instructor, group_a, group_b):
    client = as_user("instructor")
    before = queries_for(client, manage(course))
    MembershipFactory.create_batch(5, course=course, group=group_a)
    MembershipFactory.create_batch(2, course=course, role=Role.TA)
    GroupFactory.create_batch(3, course=course)

    assert queries_for(client, manage(course)) == before


# -- managing: the course and its code -----------------------------------------------


def test_the_instructor_edits_title_and_term(as_user, course, instructor):
    response = as_user("instructor").post(
        manage(course, "edit"), {"course-title": "Reading the SCO", "course-term": "Spring 2028"}, follow=True
    )

    course.refresh_from_db()
    assert (course.title, course.term) == ("Reading the SCO", "Spring 2028")
    assert response.redirect_chain == [(manage(course), 302)]
    assert "The course&#x27;s title and term are saved." in response.content.decode()


def test_a_blank_title_is_refused_beside_the_field(as_user, course, instructor):
    response = as_user("instructor").post(manage(course, "edit"), {"course-title": "", "course-term": "x"})

    course.refresh_from_db()
    assert response.status_code == 400
    assert 'id="id_course-title_error"' in response.content.decode()
    assert course.title == "SCO Seminar"


def test_regenerating_the_code_shows_the_new_one(as_user, course, instructor):
    old = course.join_code

    response = as_user("instructor").post(manage(course, "regenerate-code"), follow=True)

    course.refresh_from_db()
    assert course.join_code != old
    assert f"The new join code is {course.join_code}" in response.content.decode()


def test_joining_is_switched_off_and_on(as_user, course, instructor):
    client = as_user("instructor")

    off = client.post(manage(course, "joining"), {"enabled": "false"}, follow=True)
    course.refresh_from_db()
    assert course.join_enabled is False
    assert "Joining is off" in off.content.decode()
    assert "Switch joining on" in off.content.decode()

    client.post(manage(course, "joining"), {"enabled": "true"})
    course.refresh_from_db()
    assert course.join_enabled is True


def test_management_actions_take_a_post(as_user, course, instructor):
    assert as_user("instructor").get(manage(course, "regenerate-code")).status_code == 405


# -- managing: members ---------------------------------------------------------------


def test_the_instructor_adds_a_member_by_username(as_user, course, instructor, outsider):
    response = as_user("instructor").post(
        manage(course, "member-add"), {"member-username": "reader", "member-role": "ta"}, follow=True
    )

    assert Membership.objects.get(course=course, user=outsider).role == Role.TA
    assert "reader is now in the course as TA." in response.content.decode()


@pytest.mark.parametrize(
    ("username", "message"),
    [("nobody", "There is no account with the username “nobody”."), ("author", "author is already a member")],
)
def test_adding_an_unknown_user_or_a_member_is_refused(
    as_user, course, instructor, author, username, message
):
    response = as_user("instructor").post(
        manage(course, "member-add"), {"member-username": username, "member-role": "student"}
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert Membership.objects.filter(course=course).count() == 2


def test_the_instructor_changes_a_role_and_a_ta_leaves_their_group(as_user, course, instructor, author):
    response = as_user("instructor").post(
        manage(course, "member-role", user_id=author.pk), {f"role-{author.pk}-role": "ta"}, follow=True
    )

    membership = Membership.objects.get(course=course, user=author)
    assert (membership.role, membership.group) == (Role.TA, None)
    assert "author is now in the course as TA." in response.content.decode()


def test_the_last_instructor_cannot_step_down(as_user, course, instructor):
    response = as_user("instructor").post(
        manage(course, "member-role", user_id=instructor.pk), {f"role-{instructor.pk}-role": "student"}
    )

    assert response.status_code == 400
    assert "A course needs at least one instructor" in response.content.decode()
    assert f'id="id_role-{instructor.pk}-role_error"' in response.content.decode()
    assert Membership.objects.get(course=course, user=instructor).role == Role.INSTRUCTOR


def test_an_instructor_who_steps_down_is_sent_to_the_course_page(as_user, course, instructor):
    MembershipFactory(course=course, role=Role.INSTRUCTOR)

    response = as_user("instructor").post(
        manage(course, "member-role", user_id=instructor.pk), {f"role-{instructor.pk}-role": "ta"}
    )

    assert response["Location"] == detail(course)
    assert Membership.objects.get(course=course, user=instructor).role == Role.TA


def test_the_instructor_moves_a_student_to_another_group_and_to_none(
    as_user, course, instructor, author, group_b
):
    client = as_user("instructor")
    field = f"group-{author.pk}-group"

    moved = client.post(manage(course, "member-group", user_id=author.pk), {field: group_b.pk}, follow=True)
    membership = Membership.objects.get(course=course, user=author)
    assert membership.group == group_b
    assert "author is now in Group B." in moved.content.decode()

    client.post(manage(course, "member-group", user_id=author.pk), {field: ""})
    membership.refresh_from_db()
    assert membership.group is None


def test_a_student_stays_in_one_group(as_user, course, instructor, author, group_a, group_b):
    as_user("instructor").post(
        manage(course, "member-group", user_id=author.pk), {f"group-{author.pk}-group": group_b.pk}
    )

    assert list(
        Membership.objects.filter(course=course, user=author).values_list("group__name", flat=True)
    ) == ["Group B"]


def test_a_group_of_another_course_or_a_ta_in_a_group_is_refused(
    as_user, course, other_course, instructor, ta, author
):
    client = as_user("instructor")
    elsewhere = GroupFactory(course=other_course)

    other = client.post(
        manage(course, "member-group", user_id=author.pk), {f"group-{author.pk}-group": elsewhere.pk}
    )
    group = GroupFactory(course=course)
    staff = client.post(manage(course, "member-group", user_id=ta.pk), {f"group-{ta.pk}-group": group.pk})

    assert other.status_code == 400
    assert "Select a valid choice" in other.content.decode()
    assert staff.status_code == 400
    assert "Only students are placed in groups." in staff.content.decode()
    assert Membership.objects.get(course=course, user=ta).group is None


def test_removing_a_member_asks_first_then_removes(as_user, course, instructor, author):
    client = as_user("instructor")
    url = manage(course, "member-remove", user_id=author.pk)

    confirm = client.get(url)
    assert "Remove author from SCO Seminar?" in confirm.content.decode()
    assert Membership.objects.filter(course=course, user=author).exists()

    response = client.post(url, follow=True)
    assert not Membership.objects.filter(course=course, user=author).exists()
    assert "author is no longer a member of SCO Seminar." in response.content.decode()


def test_the_last_instructor_cannot_be_removed(as_user, course, instructor):
    response = as_user("instructor").post(manage(course, "member-remove", user_id=instructor.pk))

    assert response.status_code == 400
    assert "A course needs at least one instructor" in response.content.decode()
    assert Membership.objects.filter(course=course, user=instructor).exists()


def test_a_member_of_another_course_is_not_found(as_user, course, instructor, other_course_student):
    url = manage(course, "member-remove", user_id=other_course_student.pk)

    assert as_user("instructor").post(url).status_code == 404
    assert Membership.objects.filter(user=other_course_student).exists()


# -- managing: groups ----------------------------------------------------------------


def test_the_instructor_creates_renames_and_deletes_a_group(as_user, course, instructor, author, group_a):
    client = as_user("instructor")

    created = client.post(manage(course, "group-create"), {"group-name": " Group C "}, follow=True)
    group = CourseGroup.objects.get(course=course, name="Group C")
    assert "The group Group C is created." in created.content.decode()

    client.post(manage(course, "group-rename", group_id=group.pk), {f"rename-{group.pk}-name": "Group Z"})
    group.refresh_from_db()
    assert group.name == "Group Z"

    delete_url = manage(course, "group-delete", group_id=group_a.pk)
    assert "Its 1 student(s) will be in no group" in client.get(delete_url).content.decode()
    client.post(delete_url)
    assert not CourseGroup.objects.filter(pk=group_a.pk).exists()
    assert Membership.objects.get(course=course, user=author).group is None


def test_a_group_name_is_unique_in_its_course(as_user, course, instructor, group_a, group_b):
    client = as_user("instructor")

    created = client.post(manage(course, "group-create"), {"group-name": "Group A"})
    renamed = client.post(
        manage(course, "group-rename", group_id=group_b.pk), {f"rename-{group_b.pk}-name": "Group A"}
    )

    assert created.status_code == 400
    assert "This course already has a group called “Group A”." in created.content.decode()
    assert renamed.status_code == 400
    assert f'id="id_rename-{group_b.pk}-name_error"' in renamed.content.decode()
    assert sorted(course.groups.values_list("name", flat=True)) == ["Group A", "Group B"]


def test_a_group_with_annotations_is_not_deleted(as_user, course, instructor, author, group_a):
    AnnotationFactory(course=course, author=author, group=group_a)

    response = as_user("instructor").post(manage(course, "group-delete", group_id=group_a.pk))

    assert response.status_code == 400
    assert "This group has annotations written for it" in response.content.decode()
    assert CourseGroup.objects.filter(pk=group_a.pk).exists()


def test_a_group_of_another_course_is_not_found(as_user, course, other_course, instructor):
    elsewhere = GroupFactory(course=other_course)

    assert (
        as_user("instructor").post(manage(course, "group-delete", group_id=elsewhere.pk)).status_code == 404
    )
    assert CourseGroup.objects.filter(pk=elsewhere.pk).exists()


def test_a_new_account_can_be_added_right_away(as_user, course, instructor):
    UserFactory(username="late_student")

    as_user("instructor").post(
        manage(course, "member-add"), {"member-username": "late_student", "member-role": "student"}
    )

    assert Membership.objects.filter(course=course, user__username="late_student", role=Role.STUDENT).exists()


def test_the_course_page_leads_to_the_claims_timeline_and_proposals(client, course, instructor, author):
    client.force_login(author)
    student_page = client.get(reverse("courses:detail", kwargs={"pk": course.pk})).content.decode()
    client.force_login(instructor)
    staff_page = client.get(reverse("courses:detail", kwargs={"pk": course.pk})).content.decode()

    for url in [
        reverse("challenges:claims", kwargs={"pk": course.pk}),
        reverse("links:course-timeline", kwargs={"pk": course.pk}),
        reverse("links:propose-event", kwargs={"pk": course.pk}),
    ]:
        assert url in student_page
    assert reverse("links:review", kwargs={"pk": course.pk}) not in student_page
    assert reverse("links:review", kwargs={"pk": course.pk}) in staff_page
