"""Account pages: sign up, log in, log out, change password."""

from __future__ import annotations

from django.urls import include, path

from annotations.views import accounts as views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("", include("django.contrib.auth.urls")),
]
