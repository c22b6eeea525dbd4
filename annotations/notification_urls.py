"""A user's notifications: the list, opening one, marking all read, and preferences."""

from __future__ import annotations

from django.urls import path

from annotations.views import notifications as views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("read/", views.mark_all_read, name="mark-all-read"),
    path("<int:pk>/open/", views.notification_open, name="open"),
    path("preferences/", views.preferences, name="preferences"),
]
