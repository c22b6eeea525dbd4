"""Site-wide views that belong to no app."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def health(request: HttpRequest) -> HttpResponse:
    """Answer "ok" as plain text, touching neither the database nor the session.

    A load balancer's health check, and the floor the benchmark measures pages against:
    it costs only the middleware stack.
    """
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
