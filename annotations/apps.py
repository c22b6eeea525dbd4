from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnnotationsConfig(AppConfig):
    name = "annotations"
    verbose_name = _("Reading and annotations")

    def ready(self) -> None:
        from annotations import signals  # noqa: F401  (connects the receivers)
