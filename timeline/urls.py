from __future__ import annotations

from django.urls import path

from timeline import views

app_name = "timeline"

urlpatterns = [
    path("timeline/", views.timeline, name="timeline"),
    path("events/<str:key>/", views.event_detail, name="event-detail"),
    path("actors/", views.actor_list, name="actor-list"),
    path("actors/<str:key>/", views.actor_detail, name="actor-detail"),
]
