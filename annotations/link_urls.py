"""Claim–event link and event proposals inside a course (namespace ``links``)."""

from __future__ import annotations

from django.urls import path

from annotations.views import links as views

app_name = "links"

urlpatterns = [
    path("courses/<int:pk>/claims/<str:key>/links/", views.claim_links, name="claim"),
    path("courses/<int:pk>/links/<int:proposal_pk>/decide/", views.link_decide, name="decide-link"),
    path("courses/<int:pk>/proposals/", views.review, name="review"),
    path("courses/<int:pk>/events/propose/", views.propose_event, name="propose-event"),
    path(
        "courses/<int:pk>/event-proposals/<int:proposal_pk>/decide/",
        views.event_decide,
        name="decide-event",
    ),
    path("courses/<int:pk>/timeline/", views.course_timeline, name="course-timeline"),
]
