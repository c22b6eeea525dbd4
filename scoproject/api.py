"""The one API router: every resource under /api/v1/."""

from __future__ import annotations

from django.urls import path
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.routers import DefaultRouter

from annotations.api.views import (
    ClaimViewSet,
    DocumentViewSet,
    ParagraphViewSet,
    SourceViewSet,
)
from timeline.api.views import ActorViewSet, EventViewSet, TimelineJSView

router = DefaultRouter()
router.register("documents", DocumentViewSet, basename="document")
router.register("paragraphs", ParagraphViewSet, basename="paragraph")
router.register("claims", ClaimViewSet, basename="claim")
router.register("events", EventViewSet, basename="event")
router.register("actors", ActorViewSet, basename="actor")
router.register("sources", SourceViewSet, basename="source")

urlpatterns = [
    path("timeline.json", TimelineJSView.as_view(), name="timeline-json"),
    path("auth/token/", ObtainAuthToken.as_view(), name="auth-token"),
    *router.urls,
]
