"""Discussion threads inside a course (namespace ``threads``)."""

from __future__ import annotations

from django.urls import path

from annotations.views import threads as views

app_name = "threads"

urlpatterns = [
    path("courses/<int:pk>/threads/", views.thread_list, name="list"),
    path("courses/<int:pk>/threads/<int:thread_pk>/", views.thread_detail, name="detail"),
    path("courses/<int:pk>/threads/<int:thread_pk>/posts/", views.post_create, name="post"),
    path("courses/<int:pk>/threads/<int:thread_pk>/moderate/", views.thread_moderate, name="moderate"),
    path("courses/<int:pk>/mentions/", views.mentions, name="mentions"),
    path("posts/<int:post_pk>/edit/", views.post_edit, name="post-edit"),
    path("posts/<int:post_pk>/delete/", views.post_delete, name="post-delete"),
    path("posts/<int:post_pk>/helpful/", views.post_helpful, name="post-helpful"),
]
