from __future__ import annotations

from django.urls import path

from annotations.views import reading as views
from annotations.views import sources as source_views

app_name = "annotations"

urlpatterns = [
    path("", views.home, name="home"),
    path("read/", views.reading_default, name="reading-default"),
    path("read/<slug:slug>/", views.reading, name="reading"),
    path("claims/", views.claim_list, name="claim-list"),
    path("claims/<str:key>/", views.claim_detail, name="claim-detail"),
    path("sources/", views.source_list, name="source-list"),
    path("courses/<int:pk>/sources/", source_views.course_sources, name="course-sources"),
]
