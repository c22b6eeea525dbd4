"""Account pages: sign up, log in, log out, change password."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("", include("django.contrib.auth.urls")),
]
