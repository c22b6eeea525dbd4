"""Read and write shapes for courses, their members and groups.

Read shapes leave out what the asker may not see: a course's ``join_code`` and
``join_enabled`` go to its instructors and site staff only; a member's ``user_id``,
``email``, ``group`` and ``joined_at`` go to the course's TAs, instructors and site staff only
(fellow students see ``username``, ``name`` and ``role``). Those fields are therefore
optional in the schema.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotations import permissions, selectors
from annotations.models import Course, CourseGroup, Document, Membership
from annotations.models.courses import Role


class GroupRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


def _group_ref(group: CourseGroup | None) -> dict | None:
    return {"id": group.pk, "name": group.name} if group else None


class CourseSerializer(serializers.ModelSerializer):
    """A course, with your own role and group in it."""

    # Expects courses from ``selectors.courses_with_my_membership`` (``my_memberships``).

    url = serializers.HyperlinkedIdentityField(view_name="api:course-detail")
    reading = serializers.SlugRelatedField(slug_field="slug", read_only=True, help_text="The reading's slug.")
    role = serializers.SerializerMethodField(
        help_text="Your role in the course; null for site staff who are not members."
    )
    group = serializers.SerializerMethodField(help_text="Your group in the course, if you are in one.")
    # Not read-only, so that the schema can mark them optional: they are never written.
    join_code = serializers.CharField(
        required=False, help_text="Only for the course's instructors and site staff."
    )
    join_enabled = serializers.BooleanField(
        required=False, help_text="Whether the code lets students join. Only for instructors and site staff."
    )

    class Meta:
        model = Course
        fields = [
            "id",
            "url",
            "title",
            "term",
            "reading",
            "role",
            "group",
            "join_code",
            "join_enabled",
            "created_at",
        ]
        read_only_fields = ["title", "term", "created_at"]

    def _membership(self, course: Course) -> Membership | None:
        return course.my_memberships[0] if course.my_memberships else None

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices, allow_null=True))
    def get_role(self, course: Course) -> str | None:
        membership = self._membership(course)
        return membership.role if membership else None

    @extend_schema_field(GroupRefSerializer(allow_null=True))
    def get_group(self, course: Course) -> dict | None:
        membership = self._membership(course)
        return _group_ref(membership.group) if membership else None

    def to_representation(self, course: Course) -> dict:
        data = super().to_representation(course)
        user = self.context["request"].user
        permissions.remember_membership(user, course.pk, self._membership(course))
        if not permissions.can_manage_course(user, course):
            del data["join_code"], data["join_enabled"]
        return data


class CourseCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    term = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    reading = serializers.SlugRelatedField(
        slug_field="slug", queryset=Document.objects.all(), help_text="The reading's slug."
    )


class CourseUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    term = serializers.CharField(max_length=60, required=False, allow_blank=True)


class JoinSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32, help_text="The join code your instructor gave you.")


class JoiningSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(help_text="Whether students may join with the course's code.")


@extend_schema_field({"type": "string", "anyOf": [{"format": "email"}, {"maxLength": 0}]})
class OptionalEmailField(serializers.CharField):
    """An address, or ``""`` where the user gave none: the schema says so (``""`` is no email)."""


class MemberSerializer(serializers.Serializer):
    """One member of a course; the optional fields go to the course's staff only."""

    user_id = serializers.IntegerField(required=False, help_text="Staff only. Address the member by it.")
    username = serializers.CharField(source="user.username")
    name = serializers.CharField(source="user.get_full_name")
    role = serializers.ChoiceField(choices=Role.choices)
    email = OptionalEmailField(source="user.email", required=False, help_text="Staff only.")
    group = GroupRefSerializer(required=False, allow_null=True, help_text="Staff only.")
    joined_at = serializers.DateTimeField(required=False, help_text="Staff only.")

    STAFF_ONLY = ("user_id", "email", "group", "joined_at")

    def to_representation(self, membership: Membership) -> dict:
        data = super().to_representation(membership)
        if not self.context.get("staff"):
            for name in self.STAFF_ONLY:
                del data[name]
        return data


class MemberAddSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.STUDENT)


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    group = serializers.IntegerField(
        required=False, allow_null=True, help_text="A group of the course, or null for none. Students only."
    )

    def validate(self, data: dict) -> dict:
        if not data:
            raise serializers.ValidationError("Send a role, a group, or both.")
        return data


class GroupSerializer(serializers.ModelSerializer):
    """A group of a course you are in."""

    # Expects groups from ``selectors.group_list`` (``member_count``).

    url = serializers.HyperlinkedIdentityField(view_name="api:group-detail")
    member_count = serializers.IntegerField(read_only=True, help_text="How many students are in the group.")

    class Meta:
        model = CourseGroup
        fields = ["id", "url", "course", "name", "member_count"]
        read_only_fields = ["course", "name"]


class GroupCreateSerializer(serializers.Serializer):
    course = serializers.PrimaryKeyRelatedField(
        queryset=Course.objects.none(),
        help_text="A course you teach. A course you cannot see is refused like a missing one.",
    )
    name = serializers.CharField(max_length=100)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # A course the asker cannot see gets the same answer as one that does not exist.
            self.fields["course"].queryset = selectors.courses_for_user(request.user)


class GroupUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
