"""Claim–event link and event proposals inside a course (namespace ``links``)."""

from __future__ import annotations

app_name = "links"

urlpatterns: list = []
