"""Course pages (namespace ``courses``), mounted at /courses/."""

from __future__ import annotations

from django.urls import path

from annotations.views import courses as views

app_name = "courses"

urlpatterns = [
    path("", views.course_list, name="list"),
    path("join/", views.course_join, name="join"),
    path("new/", views.course_create, name="create"),
    path("<int:pk>/", views.course_detail, name="detail"),
    path("<int:pk>/manage/", views.course_manage, name="manage"),
    path("<int:pk>/manage/details/", views.course_edit, name="edit"),
    path("<int:pk>/manage/code/", views.course_regenerate_code, name="regenerate-code"),
    path("<int:pk>/manage/joining/", views.course_joining, name="joining"),
    path("<int:pk>/manage/members/", views.member_add, name="member-add"),
    path("<int:pk>/manage/members/<int:user_id>/role/", views.member_role, name="member-role"),
    path("<int:pk>/manage/members/<int:user_id>/group/", views.member_group, name="member-group"),
    path("<int:pk>/manage/members/<int:user_id>/remove/", views.member_remove, name="member-remove"),
    path("<int:pk>/manage/groups/", views.group_create, name="group-create"),
    path("<int:pk>/manage/groups/<int:group_id>/rename/", views.group_rename, name="group-rename"),
    path("<int:pk>/manage/groups/<int:group_id>/delete/", views.group_delete, name="group-delete"),
]
