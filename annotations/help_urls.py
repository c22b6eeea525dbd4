"""Help pages (namespace ``help``), mounted at /help/; open to everyone."""

from __future__ import annotations

from django.urls import path

from annotations.views import help as views

app_name = "help"

urlpatterns = [
    path("", views.help_index, name="index"),
    path("annotations/", views.help_topic, {"topic": "annotations"}, name="annotations"),
    path("challenges/", views.help_topic, {"topic": "challenges"}, name="challenges"),
    path("evidence/", views.help_topic, {"topic": "evidence"}, name="evidence"),
    path("assignments/", views.help_topic, {"topic": "assignments"}, name="assignments"),
    path("moderation/", views.help_topic, {"topic": "moderation"}, name="moderation"),
    path("instructors/", views.help_topic, {"topic": "instructors"}, name="instructors"),
]
