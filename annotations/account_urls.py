"""Account pages: sign up, log in, log out, change password, download my data."""

from __future__ import annotations

from django.urls import include, path

from annotations.views import accounts as views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("my-data/", views.my_data, name="my-data"),
    path("", include("django.contrib.auth.urls")),
]
