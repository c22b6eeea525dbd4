"""Moderation pages (namespace ``moderation``): flags, staff acts in place, the review queue,
pre-moderation switches."""

from __future__ import annotations

from django.urls import path

from annotations.views import moderation as views

app_name = "moderation"

urlpatterns = [
    path("courses/<int:pk>/flag/<str:kind>/<int:work_id>/", views.flag, name="flag"),
    path("courses/<int:pk>/moderation/", views.queue, name="queue"),
    path("courses/<int:pk>/moderation/hide/<str:kind>/<int:work_id>/", views.hide, name="hide"),
    path("courses/<int:pk>/moderation/act/<str:kind>/<int:work_id>/", views.act, name="act"),
    path(
        "courses/<int:pk>/moderation/premoderation/", views.course_premoderation, name="course-premoderation"
    ),
    path(
        "courses/<int:pk>/moderation/students/<int:user_id>/premoderation/",
        views.member_premoderation,
        name="member-premoderation",
    ),
    path(
        "courses/<int:pk>/moderation/students/premoderation/",
        views.student_premoderation,
        name="student-premoderation",
    ),
]
