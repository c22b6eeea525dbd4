"""Errors: a service's ``ValidationError`` is a 400 with a message per field; an oversized
body is a 413 and too many writes a 429, each with a message that says what to do."""

from __future__ import annotations

import math
from typing import Any

from axes.helpers import get_cool_off
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from scoproject.throttling import too_many_writes_message


def body_too_big_message() -> str:
    """The one wording of a refused oversized body."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
    return (
        f"The request is too large: at most {limit // 1024} KB may be sent at once. "
        "Shorten the text or split it, then send it again; nothing was saved."
    )


def wants_json(request: HttpRequest) -> bool:
    """True for the API and for clients that asked for JSON."""
    return request.path.startswith("/api/") or "json" in request.headers.get("Accept", "")


def body_too_big_response(request: HttpRequest) -> HttpResponse:
    """A 413: ``{"detail": ...}`` for the API, a page for the site."""
    message = body_too_big_message()
    if wants_json(request):
        return JsonResponse({"detail": message}, status=413)
    return HttpResponse(render_to_string("413.html", {"message": message}, request=request), status=413)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 400 handler, except that a body over the limit is a 413, and the API answers
    JSON (a request Django refused before any view, e.g. one with too many fields)."""
    if isinstance(exception, RequestDataTooBig):
        return body_too_big_response(request)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "The request could not be read; nothing was saved."}, status=400)
    return defaults.bad_request(request, exception)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 404 page; under /api/ a JSON 404 like DRF's, for an address no route matches."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def login_paused_response(request: Any) -> Response:
    """A 429 for a token request while its username or address is locked out."""
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 0
    minutes = max(1, round(seconds / 60))
    message = (
        "Logging in is paused: there were too many wrong passwords for this username or from "
        f"this address. Please wait {minutes} minute{'s' if minutes != 1 else ''}, then try again."
    )
    response = Response({"detail": message}, status=status.HTTP_429_TOO_MANY_REQUESTS)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus Django's ``ValidationError`` (raised by services) as a 400, an
    oversized body as a 413, a throttled write as a 429 that says how long to wait, and a
    refused token request while logging in is locked out as a 429 that says so.

    ``{"field": ["message"]}`` for field errors; ``{"non_field_errors": [...]}`` otherwise.
    """
    request = context.get("request")
    # django-axes marks the request it refused (or locked) while authenticating; the token
    # serializer would otherwise answer a plain "unable to log in".
    if isinstance(exc, exceptions.ValidationError) and getattr(request, "axes_locked_out", False):
        return login_paused_response(request)
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": body_too_big_message()}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, exceptions.Throttled):
        seconds = max(1, math.ceil(exc.wait or 1))
        exc = exceptions.Throttled(wait=seconds)
        # DRF would append its own "Expected available in..." to any detail given.
        exc.detail = exceptions.ErrorDetail(too_many_writes_message(seconds), code="throttled")
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {
                ("non_field_errors" if field == "__all__" else field): messages
                for field, messages in exc.message_dict.items()
            }
        else:
            detail = {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    return drf_exception_handler(exc, context)


# -- the error answers, in the OpenAPI schema ------------------------------------------------

ERROR_SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "description": "A refusal, with a message that says why.",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    "ValidationErrors": {
        "type": "object",
        "description": (
            "A message list per field that was refused (nested as the fields are), or "
            '"non_field_errors" for the request as a whole.'
        ),
        "additionalProperties": {},
    },
}

# Why each error may answer an operation: who is refused, and what for.
ERROR_RESPONSES: dict[str, tuple[str, str]] = {
    "400": ("ValidationErrors", "The input was refused; nothing was saved."),
    "401": ("Error", "The credentials are missing or wrong."),
    "403": ("Error", "The user may not do this."),
    "404": ("Error", "Not found, or not visible to this user (both answer the same)."),
    "409": ("Error", "Someone else changed it first; reload and try again."),
    "413": ("Error", "The request body is over the size limit."),
    "429": ("Error", "Too many writes; try again after Retry-After seconds."),
}
WRITE_METHODS = ("post", "put", "patch", "delete")


def _error_statuses(method: str, operation: dict[str, Any]) -> list[str]:
    """The error statuses ``operation`` can answer, as the project's exception handler makes them."""
    parameters = operation.get("parameters", [])
    statuses = ["401", "403"]
    if method in WRITE_METHODS or any(parameter.get("in") == "query" for parameter in parameters):
        statuses.append("400")
    # A path parameter can name a missing object; a query's page can be past the last one.
    statuses.append("404")
    if method in WRITE_METHODS:
        statuses += ["409", "413", "429"]
    return statuses


def schema_error_responses(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: every operation documents the errors it can
    answer (a refusal with ``detail``, or field-by-field messages for a 400), keeping any
    response an operation already declares."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in ERROR_SCHEMAS.items():
        components.setdefault(name, schema)
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in ("get", *WRITE_METHODS):
                continue
            responses = operation.setdefault("responses", {})
            for status_code in _error_statuses(method, operation):
                if status_code in responses:
                    continue
                component, description = ERROR_RESPONSES[status_code]
                responses[status_code] = {
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}
                    },
                    "description": description,
                }
    return result
