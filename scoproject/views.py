"""Site-wide views that belong to no app."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import check_for_language
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from annotations.services.notifications import language_record


@never_cache
@require_safe
def health(request: HttpRequest) -> HttpResponse:
    """Answer "ok" as plain text, touching neither the database nor the session.

    A load balancer's health check, and the floor the benchmark measures pages against:
    it costs only the middleware stack.
    """
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


def set_language(request: HttpRequest) -> HttpResponse:
    """The footer's language switch: Django's ``set_language``, and for a signed-in user the
    choice is remembered, so that e-mails and digests are written in it too."""
    response = i18n.set_language(request)
    language = request.POST.get("language")
    if (
        request.method == "POST"
        and request.user.is_authenticated
        and language in dict(settings.LANGUAGES)
        and check_for_language(language)
    ):
        language_record(user=request.user, language=language)
    return response
