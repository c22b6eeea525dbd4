"""Abuse limits: how fast anyone may write, and how many wrong passwords lock a login.

Writes. One rule for the API and the pages: every unsafe request (POST, PUT, PATCH,
DELETE) counts against ``settings.WRITE_RATE``, per signed-in user, or per address when
signed out, in Django's cache (Redis when ``REDIS_URL`` is set, so all app servers share
the count). Reads are never throttled. Over the rate, the API answers 429 with JSON and
the pages with a short page, both with ``Retry-After``.

Logins. django-axes locks a username after ``AXES_FAILURE_LIMIT`` failures from any
addresses, and an address after ``AXES_ADDRESS_FAILURE_LIMIT`` failures for any usernames;
the handlers below give each of the two its own limit (axes itself has one for all).
"""

from __future__ import annotations

import math
from typing import Any

from axes.handlers.cache import AxesCacheHandler
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_cache_keys, get_lockout_parameters
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import SimpleRateThrottle


class WriteRateThrottle(SimpleRateThrottle):
    """Allows ``settings.WRITE_RATE`` unsafe requests per user (or address) and lets every
    safe one through; used by DRF for the API and by the middleware below for forms."""

    scope = "writes"

    def get_rate(self) -> str:
        # Read on each use, not at import, so that one setting governs both the API and the pages.
        return settings.WRITE_RATE

    def allow_request(self, request: Any, view: Any) -> bool:
        """True for a read; for a write, True while the requester is within the rate."""
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)

    def get_cache_key(self, request: Any, view: Any) -> str:
        """The signed-in user's id, or the client's address for anonymous writes."""
        user = getattr(request, "user", None)
        ident = f"user-{user.pk}" if user is not None and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def retry_after(self) -> int:
        """Whole seconds until the next write is allowed (at least 1)."""
        return max(1, math.ceil(self.wait() or 1))


def too_many_writes_message(seconds: int) -> str:
    """The one wording of a refused write, for the API and the pages."""
    return (
        f"Too many changes in a short time. Please wait {seconds} second{'s' if seconds != 1 else ''} "
        "and try again; nothing was saved."
    )


def too_many_writes_page(request: HttpRequest, seconds: int) -> HttpResponse:
    """A 429 page with ``Retry-After`` for a refused form post."""
    body = render_to_string(
        "429.html", {"message": too_many_writes_message(seconds), "seconds": seconds}, request=request
    )
    response = HttpResponse(body, status=429)
    response["Retry-After"] = str(seconds)
    return response


def _is_api_view(view_func: Any) -> bool:
    # Imported here: rest_framework.views imports this module (DEFAULT_THROTTLE_CLASSES).
    from rest_framework.views import APIView

    view_class = getattr(view_func, "cls", None)
    return isinstance(view_class, type) and issubclass(view_class, APIView)


class PageWriteThrottleMiddleware:
    """Applies ``WriteRateThrottle`` to the pages' form posts; API views throttle themselves
    (DRF's ``DEFAULT_THROTTLE_CLASSES``), so they are left to DRF and counted once."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        """None (carry on) for reads, API views and writes within the rate; else a 429 page."""
        if request.method in SAFE_METHODS or _is_api_view(view_func):
            return None
        throttle = WriteRateThrottle()
        if throttle.allow_request(request, None):
            return None
        return too_many_writes_page(request, throttle.retry_after())


def _limits(request: Any, credentials: dict | None) -> list[int]:
    by_parameter = {
        "username": settings.AXES_FAILURE_LIMIT,
        "ip_address": settings.AXES_ADDRESS_FAILURE_LIMIT,
    }
    return [
        by_parameter.get(parameter, settings.AXES_FAILURE_LIMIT)
        if isinstance(parameter, str)
        else settings.AXES_FAILURE_LIMIT
        for parameter in get_lockout_parameters(request, credentials)
    ]


def _as_failures_against_the_limit(counts: list[int], limits: list[int]) -> int:
    # axes compares one number with AXES_FAILURE_LIMIT; report that limit when any
    # parameter has reached its own, and otherwise a count below it.
    if any(count >= limit for count, limit in zip(counts, limits, strict=True)):
        return settings.AXES_FAILURE_LIMIT
    return min(max(counts, default=0), settings.AXES_FAILURE_LIMIT - 1)


class LockoutDatabaseHandler(AxesDatabaseHandler):
    """axes' database handler, with a limit of its own for each lockout parameter."""

    def get_failures(self, request: Any, credentials: dict | None = None) -> int:
        """``AXES_FAILURE_LIMIT`` when the username or the address has reached its limit."""
        counts = [
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]
        return _as_failures_against_the_limit(counts, _limits(request, credentials))


class LockoutCacheHandler(AxesCacheHandler):
    """axes' cache handler (shared Redis), with a limit of its own for each lockout parameter."""

    def get_failures(self, request: Any, credentials: dict | None = None) -> int:
        """``AXES_FAILURE_LIMIT`` when the username or the address has reached its limit."""
        counts = [self.cache.get(key, default=0) for key in get_client_cache_keys(request, credentials)]
        return _as_failures_against_the_limit(counts, _limits(request, credentials))
