"""The admin app, installed with our site (kept apart from ``scoproject.admin``, which
imports models and so cannot be read while the apps load)."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class ScoAdminConfig(AdminConfig):
    """``django.contrib.admin`` with ``admin.site`` being ``scoproject.admin.SiteAdmin``."""

    default_site = "scoproject.admin.SiteAdmin"
