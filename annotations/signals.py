"""What the annotations app does when something happens elsewhere in Django."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from annotations.services.notifications import language_record


@receiver(user_logged_in, dispatch_uid="annotations.record_language_at_login")
def record_language_at_login(sender, request, user, **kwargs) -> None:
    """Signing in remembers the language the interface speaks to the user, so that what is
    written to them later (e-mails, digests) is in it. Token sign-ins carry no page language."""
    language = getattr(request, "LANGUAGE_CODE", None)
    if language in dict(settings.LANGUAGES):
        language_record(user=user, language=language)
