"""Course pages (namespace ``courses``)."""

from __future__ import annotations

app_name = "courses"

urlpatterns: list = []
