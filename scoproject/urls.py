"""Top-level URLs: pages, the admin, the API and its documentation."""

from __future__ import annotations

from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from scoproject import api, views

urlpatterns = [
    path("health/", views.health, name="health"),
    # The language switch posts here (Django's set_language, remembered for a signed-in user's
    # e-mails), then returns to the page.
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api.urlpatterns, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file, so script-src stays 'self'; only
    # Swagger UI's own inline styles need style-src loosened, on this page alone.
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="api-docs",
    ),
    path("accounts/", include("annotations.account_urls")),
    path("courses/", include("annotations.course_urls")),
    path("notifications/", include("annotations.notification_urls")),
    path("help/", include("annotations.help_urls")),
    path("", include("annotations.assignment_urls")),
    path("", include("annotations.annotate_urls")),
    path("", include("annotations.challenge_urls")),
    path("", include("annotations.link_urls")),
    path("", include("annotations.thread_urls")),
    path("", include("annotations.moderation_urls")),
    path("", include("timeline.urls")),
    path("", include("annotations.urls")),
]

# An oversized body answers 413 rather than Django's plain 400.
handler400 = "scoproject.exceptions.bad_request"
# An API address that no route matches answers JSON, as the API's own 404s do.
handler404 = "scoproject.exceptions.page_not_found"
