"""Challenges and evidence status inside a course (namespace ``challenges``)."""

from __future__ import annotations

app_name = "challenges"

urlpatterns: list = []
