"""/api/v1/courses/ and /api/v1/groups/: reading, joining, managing members and groups."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.models import Course, CourseGroup, Membership
from annotations.models.courses import Role
from annotations.services import courses as services
from tests.factories import AnnotationFactory, CourseFactory, GroupFactory, MembershipFactory
from tests.helpers import queries_for

pytestmark = pytest.mark.django_db

COURSES = "/api/v1/courses/"
GROUPS = "/api/v1/groups/"


def course_url(course, tail: str = "") -> str:
    return f"{COURSES}{course.pk}/{tail}"


def member_url(course, user) -> str:
    return f"{COURSES}{course.pk}/members/{user.pk}/"


@pytest.fixture
def api(request):
    """An API client signed in as one of the named users of ``conftest`` (or nobody)."""

    def client_for(name: str | None) -> APIClient:
        client = APIClient()
        if name:
            client.force_authenticate(request.getfixturevalue(name))
        return client

    return client_for


# -- who gets in ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", COURSES),
        ("post", COURSES),
        ("post", f"{COURSES}join/"),
        ("get", GROUPS),
        ("post", GROUPS),
    ],
)
def test_anonymous_requests_get_401_asking_for_a_token(api, method, url):
    response = getattr(api(None), method)(url, {}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_token_works(course, author):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=author).key}")

    response = client.get(COURSES)

    assert response.status_code == 200
    assert [c["title"] for c in response.json()["results"]] == ["SCO Seminar"]


def test_a_token_is_obtained_with_username_and_password(course, author):
    client = APIClient()
    token = client.post(
        "/api/v1/auth/token/", {"username": "author", "password": "a-long-test-password"}
    ).json()

    client.credentials(HTTP_AUTHORIZATION=f"Token {token['token']}")

    assert client.get(course_url(course)).json()["role"] == "student"


# -- reading courses -----------------------------------------------------------------


def test_a_student_lists_their_courses_with_role_and_group_and_no_code(api, course, other_course, author):
    data = api("author").get(COURSES).json()

    assert data["count"] == 1
    (item,) = data["results"]
    assert item["title"] == "SCO Seminar"
    assert item["reading"] == course.reading.slug
    assert item["role"] == "student"
    assert item["group"] == {"id": course.groups.get(name="Group A").pk, "name": "Group A"}
    assert item["url"].endswith(course_url(course))
    assert "join_code" not in item
    assert "join_enabled" not in item


def test_the_ta_does_not_see_the_code_either(api, course, ta):
    item = api("ta").get(course_url(course)).json()

    assert item["role"] == "ta"
    assert item["group"] is None
    assert "join_code" not in item


def test_the_instructor_and_site_staff_see_the_code(api, course, instructor, curator):
    mine = api("instructor").get(course_url(course)).json()
    staff = api("curator").get(course_url(course)).json()

    assert (mine["join_code"], mine["join_enabled"], mine["role"]) == (course.join_code, True, "instructor")
    assert (staff["join_code"], staff["role"]) == (course.join_code, None)


@pytest.mark.parametrize("who", ["outsider", "other_course_student", "other_instructor"])
def test_a_course_i_am_not_in_is_not_found_like_a_missing_one(api, course, who):
    client = api(who)

    assert client.get(course_url(course)).status_code == 404
    assert client.get(f"{COURSES}99999/").status_code == 404
    assert course.pk not in [c["id"] for c in client.get(COURSES).json()["results"]]


def test_site_staff_list_every_course(api, course, other_course, curator):
    titles = {c["title"] for c in api("curator").get(COURSES).json()["results"]}

    assert titles == {"SCO Seminar", "Another seminar"}


def test_courses_filter_by_my_role_term_and_reading(api, course, other_course, instructor, paper):
    MembershipFactory(course=other_course, user=instructor, role=Role.STUDENT)
    other_course.term = "Autumn 2030"
    other_course.save()
    client = api("instructor")

    taught = client.get(COURSES, {"role": "instructor"}).json()["results"]
    autumn = client.get(COURSES, {"term": "autumn 2030"}).json()["results"]
    on_paper = client.get(COURSES, {"reading": paper.slug}).json()["count"]

    assert [c["title"] for c in taught] == ["SCO Seminar"]
    assert [c["title"] for c in autumn] == ["Another seminar"]
    assert on_paper == 2
    bad = client.get(COURSES, {"role": "dean"})
    assert bad.status_code == 400
    assert "role" in bad.json()


def test_the_course_list_runs_a_fixed_number_of_queries(api, author, curator, paper):
    client = api("author")
    before = queries_for(client, COURSES)
    for _ in range(4):
        course = CourseFactory(reading=paper)
        MembershipFactory(course=course, user=author, group=GroupFactory(course=course))
        MembershipFactory.create_batch(3, course=course, role=Role.INSTRUCTOR)

    assert queries_for(client, COURSES) == before
    staff = api("curator")
    staff_before = queries_for(staff, COURSES)
    CourseFactory.create_batch(3, reading=paper)
    assert queries_for(staff, COURSES) == staff_before


# -- creating, changing, never deleting -----------------------------------------------


def test_creating_a_course_needs_the_permission(api, paper, instructor):
    response = api("instructor").post(COURSES, {"title": "Mine", "reading": paper.slug}, format="json")

    assert response.status_code == 403
    assert response.json() == {"detail": services.NOT_ALLOWED_TO_CREATE}
    assert not Course.objects.filter(title="Mine").exists()


def test_an_instructor_with_the_permission_creates_a_course(api, paper, instructor):
    instructor.user_permissions.add(Permission.objects.get(codename="add_course"))

    response = api("instructor").post(
        COURSES, {"title": "Mine", "term": "Fall 2027", "reading": paper.slug}, format="json"
    )

    assert response.status_code == 201, response.json()
    data = response.json()
    course = Course.objects.get(pk=data["id"])
    assert (course.title, course.term, course.created_by) == ("Mine", "Fall 2027", instructor)
    assert data["role"] == "instructor"
    assert data["join_code"] == course.join_code
    assert course.memberships.get().user == instructor


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"reading": "no-such-reading", "title": "X"}, "reading"), ({"title": ""}, "title"), ({}, "title")],
)
def test_a_bad_course_is_a_400_naming_the_field(api, paper, curator, payload, field):
    response = api("curator").post(COURSES, {"reading": paper.slug, **payload}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert Course.objects.count() == 0


def test_the_instructor_changes_the_title_or_the_term(api, course, instructor):
    response = api("instructor").patch(course_url(course), {"term": "Spring 2028"}, format="json")

    course.refresh_from_db()
    assert response.status_code == 200
    assert response.json()["term"] == "Spring 2028"
    assert (course.title, course.term) == ("SCO Seminar", "Spring 2028")


@pytest.mark.parametrize(
    ("who", "code"), [("author", 403), ("ta", 403), ("outsider", 404), ("other_instructor", 404)]
)
def test_only_instructors_change_a_course(api, course, who, code):
    response = api(who).patch(course_url(course), {"title": "Hacked"}, format="json")

    course.refresh_from_db()
    assert response.status_code == code
    assert course.title == "SCO Seminar"


def test_a_blank_title_is_a_400(api, course, instructor):
    response = api("instructor").patch(course_url(course), {"title": ""}, format="json")

    assert response.status_code == 400
    assert "title" in response.json()


def test_courses_are_never_deleted(api, course, instructor, curator):
    response = api("curator").delete(course_url(course))

    assert response.status_code == 405
    assert "Courses are never deleted" in response.json()["detail"]
    assert Course.objects.filter(pk=course.pk).exists()
    assert api("outsider").delete(course_url(course)).status_code == 404


def test_put_is_not_offered(api, course, instructor):
    assert (
        api("instructor").put(course_url(course), {"title": "X", "term": ""}, format="json").status_code
        == 405
    )


# -- joining, codes -----------------------------------------------------------------


def test_joining_with_the_code_is_201_then_200(api, course, outsider):
    client = api("outsider")

    first = client.post(f"{COURSES}join/", {"code": f"  {course.join_code.lower()} "}, format="json")
    again = client.post(f"{COURSES}join/", {"code": course.join_code}, format="json")

    assert first.status_code == 201
    assert first.json()["id"] == course.pk
    assert first.json()["role"] == "student"
    assert again.status_code == 200
    assert Membership.objects.filter(course=course, user=outsider).count() == 1


@pytest.mark.parametrize(
    ("code", "message"), [("NOPE-NOPE", services.NO_SUCH_CODE), ("", "This field may not be blank.")]
)
def test_a_bad_code_is_a_400(api, course, outsider, code, message):
    response = api("outsider").post(f"{COURSES}join/", {"code": code}, format="json")

    assert response.status_code == 400
    assert response.json() == {"code": [message]}
    assert not Membership.objects.filter(user=outsider).exists()


def test_a_disabled_code_is_refused_but_members_are_still_members(api, course, outsider, author, instructor):
    api("instructor").post(course_url(course, "joining/"), {"enabled": False}, format="json")

    refused = api("outsider").post(f"{COURSES}join/", {"code": course.join_code}, format="json")
    member = api("author").post(f"{COURSES}join/", {"code": course.join_code}, format="json")

    assert refused.status_code == 400
    assert refused.json() == {"code": [services.CODE_DISABLED]}
    assert member.status_code == 200


def test_switching_joining_needs_a_boolean(api, course, instructor):
    client = api("instructor")

    bad = client.post(course_url(course, "joining/"), {}, format="json")
    off = client.post(course_url(course, "joining/"), {"enabled": False}, format="json")

    assert bad.status_code == 400
    assert "enabled" in bad.json()
    assert off.json()["join_enabled"] is False
    course.refresh_from_db()
    assert course.join_enabled is False


def test_a_regenerated_code_makes_the_old_one_fail(api, course, instructor, outsider):
    old = course.join_code

    response = api("instructor").post(course_url(course, "regenerate_code/"))
    refused = api("outsider").post(f"{COURSES}join/", {"code": old}, format="json")
    joined = api("outsider").post(f"{COURSES}join/", {"code": response.json()["join_code"]}, format="json")

    assert response.status_code == 200
    assert response.json()["join_code"] != old
    assert refused.status_code == 400
    assert joined.status_code == 201


@pytest.mark.parametrize(
    ("who", "code"), [("author", 403), ("ta", 403), ("outsider", 404), ("other_instructor", 404)]
)
def test_only_instructors_change_the_code_or_joining(api, course, who, code):
    old = course.join_code
    client = api(who)

    assert client.post(course_url(course, "regenerate_code/")).status_code == code
    assert client.post(course_url(course, "joining/"), {"enabled": False}, format="json").status_code == code
    course.refresh_from_db()
    assert (course.join_code, course.join_enabled) == (old, True)


# -- members -------------------------------------------------------------------------


def test_staff_see_every_field_of_the_members(api, course, ta, author, instructor, group_a):
    data = api("ta").get(course_url(course, "members/")).json()

    by_name = {m["username"]: m for m in data["results"]}
    assert set(by_name) == {"ta", "author", "instructor"}
    assert by_name["author"] == {
        "user_id": author.pk,
        "username": "author",
        "name": "",
        "role": "student",
        "email": "",
        "group": {"id": group_a.pk, "name": "Group A"},
        "joined_at": by_name["author"]["joined_at"],
    }


def test_students_see_only_usernames_names_and_roles(api, course, author, groupmate, instructor):
    instructor.first_name, instructor.last_name = "Ada", "Lovelace"
    instructor.save()

    data = api("author").get(course_url(course, "members/")).json()

    assert {"username": "instructor", "name": "Ada Lovelace", "role": "instructor"} in data["results"]
    assert all(set(m) == {"username", "name", "role"} for m in data["results"])


def test_members_filter_by_role_and_group(api, course, instructor, author, other_group_student, group_b):
    client = api("instructor")

    students = client.get(course_url(course, "members/"), {"role": "student"}).json()["results"]
    in_b = client.get(course_url(course, "members/"), {"group": group_b.pk}).json()["results"]

    assert {m["username"] for m in students} == {"author", "other_group_student"}
    assert [m["username"] for m in in_b] == ["other_group_student"]
    assert client.get(course_url(course, "members/"), {"role": "dean"}).status_code == 400


def test_outsiders_cannot_list_members(api, course, author, other_instructor):
    assert api("other_instructor").get(course_url(course, "members/")).status_code == 404


def test_the_member_list_runs_a_fixed_number_of_queries(api, course, instructor, group_a):
    client = api("instructor")
    url = course_url(course, "members/")
    before = queries_for(client, url)
    MembershipFactory.create_batch(5, course=course, group=group_a)
    MembershipFactory.create_batch(2, course=course, role=Role.TA)

    assert queries_for(client, url) == before


def test_the_instructor_adds_a_member(api, course, instructor, outsider):
    response = api("instructor").post(
        course_url(course, "members/"), {"username": "reader", "role": "ta"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["user_id"] == outsider.pk
    assert response.json()["role"] == "ta"
    assert Membership.objects.get(course=course, user=outsider).role == Role.TA


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"username": "nobody"}, "username", "There is no account with the username “nobody”."),
        ({"username": "author"}, "username", "author is already a member of this course."),
        ({"username": "reader", "role": "dean"}, "role", "is not a valid choice"),
    ],
)
def test_adding_a_member_badly_is_a_400(api, course, instructor, author, outsider, payload, field, message):
    response = api("instructor").post(course_url(course, "members/"), payload, format="json")

    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert not Membership.objects.filter(user=outsider).exists()


@pytest.mark.parametrize(("who", "code"), [("author", 403), ("ta", 403), ("other_instructor", 404)])
def test_only_instructors_add_members(api, course, outsider, who, code):
    response = api(who).post(course_url(course, "members/"), {"username": "reader"}, format="json")

    assert response.status_code == code
    assert not Membership.objects.filter(user=outsider).exists()


def test_the_instructor_moves_a_student_between_groups_and_to_none(api, course, instructor, author, group_b):
    client = api("instructor")

    moved = client.patch(member_url(course, author), {"group": group_b.pk}, format="json")
    assert moved.status_code == 200
    assert moved.json()["group"] == {"id": group_b.pk, "name": "Group B"}
    assert Membership.objects.get(course=course, user=author).group == group_b

    out = client.patch(member_url(course, author), {"group": None}, format="json")
    assert out.json()["group"] is None
    assert Membership.objects.get(course=course, user=author).group is None


def test_a_student_is_in_at_most_one_group(api, course, instructor, author, group_a, group_b):
    api("instructor").patch(member_url(course, author), {"group": group_b.pk}, format="json")

    assert Membership.objects.filter(course=course, user=author).count() == 1
    assert Membership.objects.get(course=course, user=author).group == group_b


@pytest.mark.parametrize(
    ("payload_of", "message"),
    [
        (lambda other, mine: {"group": other.pk}, "This course has no group"),
        (lambda other, mine: {"group": 99999}, "This course has no group"),
        (lambda other, mine: {"role": "ta", "group": mine.pk}, services.ONLY_STUDENTS_IN_GROUPS),
        (lambda other, mine: {}, "Send a role, a group, or both."),
    ],
)
def test_a_bad_move_is_a_400_and_changes_nothing(
    api, course, other_course, instructor, author, group_a, payload_of, message
):
    elsewhere = GroupFactory(course=other_course)
    mine = GroupFactory(course=course, name="Group C")

    response = api("instructor").patch(member_url(course, author), payload_of(elsewhere, mine), format="json")

    assert response.status_code == 400
    assert str(message) in str(response.json())
    membership = Membership.objects.get(course=course, user=author)
    assert (membership.role, membership.group) == (Role.STUDENT, group_a)


def test_a_group_of_a_course_the_instructor_also_teaches_is_refused(
    api, course, other_course, instructor, author
):
    MembershipFactory(course=other_course, user=instructor, role=Role.INSTRUCTOR)
    elsewhere = GroupFactory(course=other_course)

    response = api("instructor").patch(member_url(course, author), {"group": elsewhere.pk}, format="json")

    assert response.status_code == 400
    assert response.json() == {"group": [services.GROUP_OF_OTHER_COURSE]}


def test_the_instructor_changes_a_role(api, course, instructor, author):
    response = api("instructor").patch(member_url(course, author), {"role": "ta"}, format="json")

    assert response.status_code == 200
    assert response.json()["role"] == "ta"
    assert response.json()["group"] is None
    assert Membership.objects.get(course=course, user=author).role == Role.TA


def test_the_last_instructor_cannot_step_down_or_be_removed(api, course, instructor):
    client = api("instructor")

    stepped = client.patch(member_url(course, instructor), {"role": "student"}, format="json")
    removed = client.delete(member_url(course, instructor))

    assert stepped.status_code == 400
    assert stepped.json() == {"role": [services.LAST_INSTRUCTOR]}
    assert removed.status_code == 400
    assert removed.json() == {"user": [services.LAST_INSTRUCTOR]}
    assert Membership.objects.get(course=course, user=instructor).role == Role.INSTRUCTOR


def test_the_instructor_removes_a_member(api, course, instructor, author):
    response = api("instructor").delete(member_url(course, author))

    assert response.status_code == 204
    assert not Membership.objects.filter(course=course, user=author).exists()
    assert api("author").get(course_url(course)).status_code == 404


@pytest.mark.parametrize(("who", "code"), [("groupmate", 403), ("ta", 403), ("other_instructor", 404)])
def test_only_instructors_change_or_remove_members(api, course, author, group_b, who, code):
    client = api(who)

    assert client.patch(member_url(course, author), {"group": group_b.pk}, format="json").status_code == code
    assert client.delete(member_url(course, author)).status_code == code
    assert Membership.objects.get(course=course, user=author).group.name == "Group A"


def test_someone_not_in_the_course_is_not_a_member_to_change(api, course, instructor, other_course_student):
    response = api("instructor").delete(member_url(course, other_course_student))

    assert response.status_code == 404
    assert Membership.objects.filter(user=other_course_student).exists()


# -- groups --------------------------------------------------------------------------


def test_members_list_the_groups_of_their_courses(api, course, other_course, author, group_a, group_b):
    GroupFactory(course=other_course, name="Elsewhere")

    data = api("author").get(GROUPS).json()

    assert [(g["name"], g["course"], g["member_count"]) for g in data["results"]] == [
        ("Group A", course.pk, 1),
        ("Group B", course.pk, 0),
    ]


def test_groups_filter_by_course(api, course, other_course, curator, group_a):
    elsewhere = GroupFactory(course=other_course, name="Elsewhere")

    data = api("curator").get(GROUPS, {"course": other_course.pk}).json()

    assert [g["id"] for g in data["results"]] == [elsewhere.pk]
    assert api("curator").get(GROUPS, {"course": "x"}).status_code == 400


@pytest.mark.parametrize("who", ["outsider", "other_course_student", "other_instructor"])
def test_a_group_of_a_course_i_am_not_in_is_not_found(api, course, group_a, who):
    assert api(who).get(f"{GROUPS}{group_a.pk}/").status_code == 404
    assert group_a.pk not in [g["id"] for g in api(who).get(GROUPS).json()["results"]]


def test_the_group_list_runs_a_fixed_number_of_queries(api, course, author, group_a):
    client = api("author")
    before = queries_for(client, GROUPS)
    for group in GroupFactory.create_batch(4, course=course):
        MembershipFactory.create_batch(2, course=course, group=group)

    assert queries_for(client, GROUPS) == before


def test_the_instructor_creates_a_group(api, course, instructor):
    response = api("instructor").post(GROUPS, {"course": course.pk, "name": "Group C"}, format="json")

    assert response.status_code == 201
    assert response.json()["name"] == "Group C"
    assert response.json()["member_count"] == 0
    assert CourseGroup.objects.filter(course=course, name="Group C").exists()


def test_a_course_i_cannot_see_is_refused_like_a_missing_one(api, course, other_instructor):
    client = api("other_instructor")

    hidden = client.post(GROUPS, {"course": course.pk, "name": "Mine"}, format="json")
    missing = client.post(GROUPS, {"course": 99999, "name": "Mine"}, format="json")

    assert hidden.status_code == missing.status_code == 400
    assert hidden.json()["course"] == [f'Invalid pk "{course.pk}" - object does not exist.']
    assert missing.json()["course"] == ['Invalid pk "99999" - object does not exist.']
    assert not CourseGroup.objects.filter(name="Mine").exists()


@pytest.mark.parametrize("who", ["author", "ta"])
def test_students_and_tas_may_not_create_groups(api, course, who):
    response = api(who).post(GROUPS, {"course": course.pk, "name": "Mine"}, format="json")

    assert response.status_code == 403
    assert response.json() == {"detail": services.NOT_INSTRUCTOR}
    assert not CourseGroup.objects.filter(name="Mine").exists()


def test_a_duplicate_group_name_is_a_400(api, course, instructor, group_a, group_b):
    client = api("instructor")

    created = client.post(GROUPS, {"course": course.pk, "name": "Group A"}, format="json")
    renamed = client.patch(f"{GROUPS}{group_b.pk}/", {"name": "Group A"}, format="json")

    assert created.json() == {"name": [services.GROUP_NAME_TAKEN.format(name="Group A")]}
    assert renamed.status_code == 400
    assert CourseGroup.objects.filter(course=course).count() == 2


def test_the_instructor_renames_a_group(api, course, instructor, group_a):
    response = api("instructor").patch(f"{GROUPS}{group_a.pk}/", {"name": "Readers"}, format="json")

    group_a.refresh_from_db()
    assert response.json()["name"] == "Readers"
    assert group_a.name == "Readers"


@pytest.mark.parametrize(("who", "code"), [("author", 403), ("ta", 403), ("other_instructor", 404)])
def test_only_instructors_rename_or_delete_groups(api, course, group_a, who, code):
    client = api(who)

    assert client.patch(f"{GROUPS}{group_a.pk}/", {"name": "X"}, format="json").status_code == code
    assert client.delete(f"{GROUPS}{group_a.pk}/").status_code == code
    group_a.refresh_from_db()
    assert group_a.name == "Group A"


def test_the_instructor_deletes_a_group_and_its_students_are_in_none(
    api, course, instructor, author, group_a
):
    response = api("instructor").delete(f"{GROUPS}{group_a.pk}/")

    assert response.status_code == 204
    assert not CourseGroup.objects.filter(pk=group_a.pk).exists()
    assert Membership.objects.get(course=course, user=author).group is None


def test_a_group_with_annotations_is_not_deleted(api, course, instructor, author, group_a):
    AnnotationFactory(course=course, author=author, group=group_a)

    response = api("instructor").delete(f"{GROUPS}{group_a.pk}/")

    assert response.status_code == 400
    assert response.json() == {"group": [services.GROUP_HAS_WORK]}
    assert CourseGroup.objects.filter(pk=group_a.pk).exists()
