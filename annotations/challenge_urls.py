"""Challenges and evidence status inside a course (namespace ``challenges``)."""

from __future__ import annotations

from django.urls import path

from annotations.views import challenges as views

app_name = "challenges"

urlpatterns = [
    path("courses/<int:pk>/claims/", views.claim_list, name="claims"),
    path("courses/<int:pk>/claims/<str:key>/", views.claim_detail, name="claim"),
    path("courses/<int:pk>/claims/<str:key>/challenges/new/", views.challenge_create, name="create"),
    path("challenges/<int:pk>/responses/", views.challenge_respond, name="respond"),
    path("challenges/<int:pk>/delete/", views.challenge_delete, name="delete"),
    path("challenges/<int:pk>/resolve/", views.challenge_resolve, name="resolve"),
    path("challenges/<int:pk>/reopen/", views.challenge_reopen, name="reopen"),
]
