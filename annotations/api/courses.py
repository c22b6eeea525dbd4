"""Courses, memberships and groups under /api/v1/.

Reads go through the selectors, so a course or group the asker may not see is a 404 (as
is a missing one); writes go through ``services.courses``, whose ``PermissionDenied`` is a
403 and whose ``ValidationError`` is a 400 with a message per field (see
``scoproject.exceptions``). Every endpoint needs a signed-in user: anonymous requests get
401 with ``WWW-Authenticate: Token``.

| endpoint | who | answers |
|---|---|---|
| ``GET courses/``, ``GET courses/{id}/`` | members; site staff see all | 200 |
| ``POST courses/`` | holders of ``annotations.add_course`` | 201, else 403 |
| ``PATCH courses/{id}/`` (title, term) | the course's instructors, site staff | 200; 403 |
| ``DELETE courses/{id}/`` | nobody: courses are never deleted | 405 |
| ``POST courses/join/`` (code) | anyone signed in | 201 joined, 200 already a member, 400 |
| ``POST courses/{id}/regenerate_code/``, ``POST courses/{id}/joining/`` | instructors | 200; 403 |
| ``GET courses/{id}/members/`` | members (students get fewer fields) | 200 |
| ``POST courses/{id}/members/`` (username, role) | instructors | 201; 400; 403 |
| ``PATCH``/``DELETE courses/{id}/members/{user_id}/`` | instructors | 200/204; 400; 403 |
| ``GET groups/``, ``GET groups/{id}/`` | members of the group's course | 200 |
| ``POST groups/`` (course, name) | the course's instructors | 201; 400; 403 |
| ``PATCH groups/{id}/`` (name), ``DELETE groups/{id}/`` | instructors | 200/204; 400 if it has work |
"""

from __future__ import annotations

import django_filters
from django.db import transaction
from django.db.models import QuerySet
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework import permissions as drf_permissions
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from annotations import permissions, selectors
from annotations.api.course_serializers import (
    CourseCreateSerializer,
    CourseSerializer,
    CourseUpdateSerializer,
    GroupCreateSerializer,
    GroupSerializer,
    GroupUpdateSerializer,
    JoiningSerializer,
    JoinSerializer,
    MemberAddSerializer,
    MemberSerializer,
    MemberUpdateSerializer,
)
from annotations.api.filters import IdFilter
from annotations.models import Course, CourseGroup, Membership
from annotations.models.courses import Role
from annotations.services import courses as services

NEVER_DELETED = (
    "Courses are never deleted, so that the work done in them is kept. "
    "Switch joining off to close a course to newcomers."
)
NO_SUCH_GROUP = "This course has no group {pk}."


class CourseFilter(django_filters.FilterSet):
    term = django_filters.CharFilter(field_name="term", lookup_expr="iexact")
    reading = django_filters.CharFilter(
        field_name="reading__slug", lookup_expr="exact", label="Reading's slug"
    )
    role = django_filters.ChoiceFilter(
        choices=Role.choices, method="filter_role", label="Your role in the course"
    )

    class Meta:
        model = Course
        fields: list[str] = []

    def filter_role(self, queryset: QuerySet[Course], name: str, value: str) -> QuerySet[Course]:
        # A subquery, not a join: the asker's own membership, never another member's role.
        mine = Membership.objects.filter(user_id=self.request.user.pk, role=value).values("course_id")
        return queryset.filter(pk__in=mine)


class MemberFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(field_name="role", lookup_expr="exact", choices=Role.choices)
    group = IdFilter(field_name="group_id", lookup_expr="exact")

    class Meta:
        model = Membership
        fields: list[str] = []


class GroupFilter(django_filters.FilterSet):
    course = IdFilter(field_name="course_id", lookup_expr="exact")

    class Meta:
        model = CourseGroup
        fields: list[str] = []


class MayCreateCourse(drf_permissions.BasePermission):
    message = services.NOT_ALLOWED_TO_CREATE

    def has_permission(self, request: Request, view: viewsets.GenericViewSet) -> bool:
        return view.action != "create" or permissions.can_create_course(request.user)


USER_ID = OpenApiParameter(
    "user_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The member's user id."
)
MEMBER_FILTERS = [
    OpenApiParameter("role", OpenApiTypes.STR, enum=Role.values, description="Only members with this role."),
    OpenApiParameter("group", OpenApiTypes.INT, description="Only the students of this group."),
]


@extend_schema_view(
    list=extend_schema(summary="The courses you are in (every course, for site staff)"),
    retrieve=extend_schema(summary="One of your courses"),
    create=extend_schema(
        summary="Create a course; you become its instructor",
        request=CourseCreateSerializer,
        responses={201: CourseSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a course's title or term (instructors)",
        request=CourseUpdateSerializer,
        responses=CourseSerializer,
    ),
    destroy=extend_schema(
        summary="Refused: courses are never deleted",
        responses={405: OpenApiResponse(description=NEVER_DELETED)},
    ),
)
class CourseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = CourseSerializer
    filterset_class = CourseFilter
    permission_classes = [drf_permissions.IsAuthenticated, MayCreateCourse]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Course]:
        return selectors.courses_with_my_membership(self.request.user)

    def _course(self) -> Course:
        """The course named in the URL, if the asker may see it (else 404), unfiltered."""
        course = selectors.course_with_my_membership(self.request.user, self.kwargs["pk"])
        my = course.my_memberships[0] if course.my_memberships else None
        permissions.remember_membership(self.request.user, course.pk, my)
        return course

    def _fresh(self, course: Course | int) -> dict:
        pk = course if isinstance(course, int) else course.pk
        fresh = selectors.course_with_my_membership(self.request.user, pk)
        return CourseSerializer(fresh, context=self.get_serializer_context()).data

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        incoming = CourseCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        course = services.course_create(user=request.user, **incoming.validated_data)
        return Response(self._fresh(course), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        course = self._course()
        incoming = CourseUpdateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        services.course_update(
            user=request.user,
            course=course,
            title=data.get("title", course.title),
            term=data.get("term", course.term),
        )
        return Response(self._fresh(course))

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        self._course()  # a course the asker cannot see stays a 404
        raise exceptions.MethodNotAllowed("DELETE", detail=NEVER_DELETED)

    @extend_schema(
        summary="Join a course with its code (as a student); joining twice is harmless",
        request=JoinSerializer,
        responses={
            201: OpenApiResponse(CourseSerializer, description="You joined the course."),
            200: OpenApiResponse(CourseSerializer, description="You were already a member."),
        },
    )
    @action(detail=False, methods=["post"], filter_backends=[])
    def join(self, request: Request) -> Response:
        incoming = JoinSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        membership, created = services.course_join(user=request.user, code=incoming.validated_data["code"])
        return Response(
            self._fresh(membership.course_id),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Give the course a new join code; the old one stops working (instructors)",
        request=None,
        responses=CourseSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def regenerate_code(self, request: Request, pk: str | None = None) -> Response:
        course = self._course()
        services.course_regenerate_code(user=request.user, course=course)
        return Response(self._fresh(course))

    @extend_schema(
        summary="Switch joining with the code on or off (instructors)",
        request=JoiningSerializer,
        responses=CourseSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def joining(self, request: Request, pk: str | None = None) -> Response:
        course = self._course()
        incoming = JoiningSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.course_set_joining(
            user=request.user, course=course, enabled=incoming.validated_data["enabled"]
        )
        return Response(self._fresh(course))

    @extend_schema(
        methods=["GET"],
        summary="The course's members",
        description=(
            "The course's TAs, instructors and site staff get every field; students get each "
            "member's username, name and role only."
        ),
        parameters=MEMBER_FILTERS,
        responses=MemberSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Add someone with an account to the course (instructors)",
        request=MemberAddSerializer,
        responses={201: MemberSerializer},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def members(self, request: Request, pk: str | None = None) -> Response:
        course = self._course()
        if request.method == "POST":
            incoming = MemberAddSerializer(data=request.data)
            incoming.is_valid(raise_exception=True)
            membership = services.membership_add(user=request.user, course=course, **incoming.validated_data)
            member = selectors.membership_of_member(course, membership.user_id)
            return Response(
                MemberSerializer(member, context={"staff": True}).data, status=status.HTTP_201_CREATED
            )
        found = MemberFilter(
            request.query_params, queryset=selectors.memberships_for_course(course), request=request
        )
        if not found.is_valid():
            raise translate_validation(found.errors)
        page = self.paginate_queryset(found.qs)
        staff = permissions.can_teach(request.user, course)
        return self.get_paginated_response(MemberSerializer(page, many=True, context={"staff": staff}).data)

    @extend_schema(
        methods=["PATCH"],
        summary="Change a member's role, or move a student to a group or to none (instructors)",
        parameters=[USER_ID],
        request=MemberUpdateSerializer,
        responses=MemberSerializer,
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Take a member out of the course (instructors); their work stays in the course",
        parameters=[USER_ID],
        request=None,
        responses={204: None},
    )
    @action(
        detail=True, methods=["patch", "delete"], url_path=r"members/(?P<user_id>\d+)", filter_backends=[]
    )
    def member(self, request: Request, pk: str | None = None, user_id: str | None = None) -> Response:
        course = self._course()
        membership = selectors.membership_of_member(course, user_id)
        if request.method == "DELETE":
            services.membership_remove(user=request.user, membership=membership)
            return Response(status=status.HTTP_204_NO_CONTENT)
        incoming = MemberUpdateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        with transaction.atomic():  # a role and a group change together, or not at all
            if "role" in data:
                membership = services.membership_set_role(
                    user=request.user, membership=membership, role=data["role"]
                )
            if "group" in data:
                group = None
                if data["group"] is not None:
                    group = selectors.groups_for_user(request.user).filter(pk=data["group"]).first()
                    if group is None:
                        raise exceptions.ValidationError({"group": [NO_SUCH_GROUP.format(pk=data["group"])]})
                services.membership_move(user=request.user, membership=membership, group=group)
        member = selectors.membership_of_member(course, membership.user_id)
        return Response(MemberSerializer(member, context={"staff": True}).data)


@extend_schema_view(
    list=extend_schema(summary="The groups of your courses"),
    retrieve=extend_schema(summary="One group of your courses"),
    create=extend_schema(
        summary="Create a group in a course you teach (instructors)",
        request=GroupCreateSerializer,
        responses={201: GroupSerializer},
    ),
    partial_update=extend_schema(
        summary="Rename a group (instructors)", request=GroupUpdateSerializer, responses=GroupSerializer
    ),
    destroy=extend_schema(
        summary="Delete a group without annotations (instructors); its students are left in no group",
        responses={204: None},
    ),
)
class GroupViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = GroupSerializer
    filterset_class = GroupFilter
    permission_classes = [drf_permissions.IsAuthenticated]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[CourseGroup]:
        return selectors.group_list(self.request.user)

    def _fresh(self, group: CourseGroup) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=group.pk)).data

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        incoming = GroupCreateSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        group = services.group_create(user=request.user, **incoming.validated_data)
        return Response(self._fresh(group), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        group = self.get_object()
        incoming = GroupUpdateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.group_rename(user=request.user, group=group, name=incoming.validated_data["name"])
        return Response(self._fresh(group))

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        services.group_delete(user=request.user, group=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
