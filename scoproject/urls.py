"""Top-level URLs: pages, the admin, the API and its documentation."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from scoproject import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include((api.urlpatterns, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("accounts/", include("annotations.account_urls")),
    path("courses/", include("annotations.course_urls")),
    path("notifications/", include("annotations.notification_urls")),
    path("", include("annotations.assignment_urls")),
    path("", include("annotations.annotate_urls")),
    path("", include("annotations.challenge_urls")),
    path("", include("annotations.link_urls")),
    path("", include("annotations.thread_urls")),
    path("", include("annotations.moderation_urls")),
    path("", include("timeline.urls")),
    path("", include("annotations.urls")),
]
