"""The one API router: every resource under /api/v1/."""

from __future__ import annotations

from django.urls import path
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.routers import DefaultRouter

from annotations.api import w3c
from annotations.api.annotations import AnnotationViewSet
from annotations.api.assignments import AssignmentViewSet
from annotations.api.challenges import ChallengeViewSet
from annotations.api.courses import CourseViewSet, GroupViewSet
from annotations.api.links import EventProposalViewSet, LinkViewSet
from annotations.api.moderation import FlagViewSet, ModerationViewSet
from annotations.api.notifications import NotificationViewSet
from annotations.api.threads import PostViewSet, ThreadViewSet
from annotations.api.views import ClaimViewSet, DocumentViewSet, ParagraphViewSet, SourceViewSet
from timeline.api.views import ActorViewSet, EventViewSet, TimelineJSView

router = DefaultRouter()
router.register("documents", DocumentViewSet, basename="document")
router.register("paragraphs", ParagraphViewSet, basename="paragraph")
router.register("claims", ClaimViewSet, basename="claim")
router.register("events", EventViewSet, basename="event")
router.register("actors", ActorViewSet, basename="actor")
router.register("sources", SourceViewSet, basename="source")
router.register("courses", CourseViewSet, basename="course")
router.register("groups", GroupViewSet, basename="group")
router.register("annotations", AnnotationViewSet, basename="annotation")
router.register("challenges", ChallengeViewSet, basename="challenge")
router.register("links", LinkViewSet, basename="link")
router.register("event-proposals", EventProposalViewSet, basename="event-proposal")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("threads", ThreadViewSet, basename="thread")
router.register("posts", PostViewSet, basename="post")
router.register("assignments", AssignmentViewSet, basename="assignment")
router.register("flags", FlagViewSet, basename="flag")
router.register("moderation", ModerationViewSet, basename="moderation")

urlpatterns = [
    path("timeline.json", TimelineJSView.as_view(), name="timeline-json"),
    path("auth/token/", ObtainAuthToken.as_view(), name="auth-token"),
    path(
        "courses/<int:pk>/annotations/",
        w3c.CourseAnnotationCollection.as_view(),
        name="course-annotation-collection",
    ),
    path(
        "courses/<int:pk>/annotations/import/",
        w3c.CourseAnnotationImport.as_view(),
        name="course-annotation-import",
    ),
    *router.urls,
]
