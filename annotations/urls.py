from __future__ import annotations

from django.urls import path

from annotations.views import reading as views

app_name = "annotations"

urlpatterns = [
    path("", views.home, name="home"),
    path("read/", views.reading_default, name="reading-default"),
    path("read/<slug:slug>/", views.reading, name="reading"),
    path("claims/", views.claim_list, name="claim-list"),
    path("claims/<str:key>/", views.claim_detail, name="claim-detail"),
    path("sources/", views.source_list, name="source-list"),
]
