"""Template context shared by every page."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.http import HttpRequest

from annotations.models import Notification


def unread_notifications(request: HttpRequest) -> dict[str, Callable[[], int]]:
    """``unread_notifications``: the signed-in user's unread count.

    Templates call it; it queries once, only when a page shows it, and never for anonymous users.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    @cache
    def count() -> int:
        return Notification.objects.filter(recipient=user, read_at__isnull=True).count()

    return {"unread_notifications": count}
