"""What the annotations app does when something happens elsewhere in Django."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from annotations.models import Claim, Document, Paragraph, Section
from annotations.services.notifications import language_record


@receiver(user_logged_in, dispatch_uid="annotations.record_language_at_login")
def record_language_at_login(sender, request, user, **kwargs) -> None:
    """Signing in remembers the language the interface speaks to the user, so that what is
    written to them later (e-mails, digests) is in it. Token sign-ins carry no page language."""
    language = getattr(request, "LANGUAGE_CODE", None)
    if language in dict(settings.LANGUAGES):
        language_record(user=user, language=language)


@receiver(post_save, sender=Section, dispatch_uid="annotations.section_saved_touches_reading")
@receiver(post_delete, sender=Section, dispatch_uid="annotations.section_deleted_touches_reading")
@receiver(post_save, sender=Paragraph, dispatch_uid="annotations.paragraph_saved_touches_reading")
@receiver(post_delete, sender=Paragraph, dispatch_uid="annotations.paragraph_deleted_touches_reading")
def part_of_reading_changed(sender, instance, **kwargs) -> None:
    """A section or paragraph written or removed changes its reading: its document's
    ``updated_at`` says so, and the structure kept by ``selectors.document_for_reading`` is
    read again."""
    Document.objects.filter(pk=instance.document_id).update(updated_at=timezone.now())


@receiver(post_save, sender=Claim, dispatch_uid="annotations.claim_saved_touches_reading")
@receiver(post_delete, sender=Claim, dispatch_uid="annotations.claim_deleted_touches_reading")
def claim_of_reading_changed(sender, instance, **kwargs) -> None:
    """A claim written or removed changes its reading's highlights (see above)."""
    Document.objects.filter(paragraphs__pk=instance.paragraph_id).update(updated_at=timezone.now())
