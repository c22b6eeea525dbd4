"""Refuses an oversized request body with a 413 before any code reads it, and answers a 503
that says to retry when the database is not answering."""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers

from scoproject.exceptions import body_too_big_response, wants_json


def declared_length(request: HttpRequest) -> int:
    """The body's size as the client declared it; 0 when missing or unreadable, as Django reads it."""
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


class RequestBodyLimitMiddleware:
    """A 413 (JSON for the API, a page otherwise) for a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``.

    Multipart bodies are let through: their files do not count against the limit, and
    Django's parser still refuses oversized fields, which ``scoproject.exceptions`` turns
    into the same 413.
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if (
            limit is not None
            and request.content_type != "multipart/form-data"
            and declared_length(request) > limit
        ):
            return body_too_big_response(request)
        return self.get_response(request)


# The database is away ----------------------------------------------------------------------

logger = logging.getLogger(__name__)

# What the driver raises when the server refuses a connection, drops one mid-request, or is
# starting up or shutting down; Django closes such a connection when the request ends, and
# opens a new one (after its health check) on the next.
DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 60
DATABASE_UNAVAILABLE = (
    "The database is not answering. Your work is safe: nothing was half-saved. Try again in a minute."
)
_UNAVAILABLE_MARK = "_sco_database_unavailable"


def is_database_unavailable(error: BaseException | None) -> bool:
    """True for an error that means the database cannot be reached just now: Django's, or the
    driver's own where one escapes Django's wrapping (closing a cursor, say)."""
    if isinstance(error, DATABASE_ERRORS):
        return True
    drivers = {connections[alias].Database for alias in connections}
    return any(isinstance(error, (driver.OperationalError, driver.InterfaceError)) for driver in drivers)


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """A 503 with ``Retry-After``: ``{"detail": ...}`` for the API, a short page otherwise.

    Nothing here touches the database, the session or the user: the page is rendered without
    the request's context processors.
    """
    if wants_json(request):
        response: HttpResponse = JsonResponse({"detail": DATABASE_UNAVAILABLE}, status=503)
    else:
        page = render_to_string(
            "503.html", {"message": DATABASE_UNAVAILABLE, "path": request.get_full_path()}
        )
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # A proxy must not keep serving the outage once the database is back.
    add_never_cache_headers(response)
    return response


def _note_database_error(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """Mark a request whose unhandled error (raised outside its view) is the database's."""
    if request is not None and is_database_unavailable(sys.exc_info()[1]):
        setattr(request, _UNAVAILABLE_MARK, True)


class DatabaseUnavailableMiddleware:
    """Turns a database that does not answer into a 503 that says to retry, never a 500.

    A view's error (pages and API alike: DRF passes on what its handler does not know) is
    caught in ``process_exception``. An error raised by a middleware further in (saving the
    session, say) has already become Django's 500 page when it gets here; the
    ``got_request_exception`` signal marks the request, and that 500 is replaced. With
    ``DEBUG`` on, Django's debug page shows the error instead.
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        got_request_exception.connect(_note_database_error, dispatch_uid="sco-database-unavailable")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, _UNAVAILABLE_MARK, False) and not settings.DEBUG:
            return database_unavailable_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if settings.DEBUG or not is_database_unavailable(exception):
            return None
        logger.error("The database is not answering (%s %s): %s", request.method, request.path, exception)
        return database_unavailable_response(request)
