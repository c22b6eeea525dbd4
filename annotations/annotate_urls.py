"""Annotating the reading inside a course (namespace ``annotate``)."""

from __future__ import annotations

from django.urls import path

from annotations.views import annotate as views

app_name = "annotate"

urlpatterns = [
    path("courses/<int:pk>/read/", views.course_reading, name="reading"),
    path("courses/<int:pk>/read/<str:anchor>/notes/", views.paragraph_notes, name="paragraph-notes"),
    path("courses/<int:pk>/annotations/new/", views.annotation_create, name="create"),
    path("annotations/<int:pk>/edit/", views.annotation_edit, name="edit"),
    path("annotations/<int:pk>/delete/", views.annotation_delete, name="delete"),
    path("annotations/<int:pk>/replies/", views.reply_create, name="reply"),
    path("annotations/<int:pk>/helpful/", views.annotation_helpful, name="helpful"),
    path("replies/<int:pk>/edit/", views.reply_edit, name="reply-edit"),
    path("replies/<int:pk>/delete/", views.reply_delete, name="reply-delete"),
]
