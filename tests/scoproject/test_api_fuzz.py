"""Every API operation, fuzzed from its own OpenAPI description, answers as described.

schemathesis reads ``/api/schema/`` from the project's WSGI application and, for every
operation, generates requests from the schema (valid bodies and query strings, and path
parameters that mostly name real objects of a course with data). Each is sent through the
application in this process twice, with a token as a student of the course and as its
instructor, and every answer must:

- never be a server error (``not_a_server_error``);
- have a status code, a content type and a body that the schema declares for the operation
  (``status_code_conformance``, ``content_type_conformance``, ``response_schema_conformance``).

The run is bounded (``FUZZ_EXAMPLES`` examples per operation, 3 unless set) and
deterministic; ``FUZZ_EXAMPLES=500 pytest tests/scoproject/test_api_fuzz.py`` runs a longer one
that also tries the boundary values of every parameter (README, "Fuzzing and access control").
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import override_settings
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from scoproject.wsgi import application
from tests.urlwalk import World, build_world

EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "3"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
# The schema's own examples and generated data; a longer run (FUZZ_EXAMPLES set) adds the
# boundary values of every parameter ("coverage"), several seconds per operation.
DEFAULT_PHASES = "examples,coverage,fuzzing" if "FUZZ_EXAMPLES" in os.environ else "examples,fuzzing"
schema.config.phases.update(phases=os.environ.get("FUZZ_PHASES", DEFAULT_PHASES).split(","))

# Path parameters the fuzzer would only guess: for each operation's path and parameter, the
# real object of the course it should mostly name.
KNOWN: dict[tuple[str, str], Callable[[World, Any], Any]] = {
    ("/api/v1/annotations/{id}/", "id"): lambda w, u: w.examples["annotation"].pk,
    ("/api/v1/annotations/{id}/helpful/", "id"): lambda w, u: w.examples["annotation"].pk,
    ("/api/v1/annotations/{id}/replies/", "id"): lambda w, u: w.examples["annotation"].pk,
    ("/api/v1/annotations/{id}/replies/{reply_pk}/", "id"): lambda w, u: w.examples["annotation"].pk,
    ("/api/v1/annotations/{id}/replies/{reply_pk}/", "reply_pk"): lambda w, u: w.examples["reply"].pk,
    ("/api/v1/challenges/{id}/", "id"): lambda w, u: w.examples["challenge"].pk,
    ("/api/v1/challenges/{id}/reopen/", "id"): lambda w, u: w.examples["challenge"].pk,
    ("/api/v1/challenges/{id}/resolve/", "id"): lambda w, u: w.examples["challenge"].pk,
    ("/api/v1/challenges/{id}/responses/", "id"): lambda w, u: w.examples["challenge"].pk,
    ("/api/v1/challenges/{id}/responses/{response_pk}/", "id"): lambda w, u: w.examples["challenge"].pk,
    ("/api/v1/challenges/{id}/responses/{response_pk}/", "response_pk"): lambda w, u: (
        w.examples["response"].pk
    ),
    ("/api/v1/assignments/{id}/", "id"): lambda w, u: w.examples["assignment"].pk,
    ("/api/v1/assignments/{id}/extensions/", "id"): lambda w, u: w.examples["assignment"].pk,
    ("/api/v1/assignments/{id}/extensions/{student_id}/", "id"): lambda w, u: w.examples["assignment"].pk,
    ("/api/v1/assignments/{id}/extensions/{student_id}/", "student_id"): lambda w, u: w.groupmate.pk,
    ("/api/v1/assignments/{id}/grades/", "id"): lambda w, u: w.examples["assignment"].pk,
    ("/api/v1/assignments/{id}/grades/{student_id}/", "id"): lambda w, u: w.examples["assignment"].pk,
    ("/api/v1/assignments/{id}/grades/{student_id}/", "student_id"): lambda w, u: w.groupmate.pk,
    ("/api/v1/assignments/{id}/progress/", "id"): lambda w, u: w.examples["assignment"].pk,
    ("/api/v1/assignments/{id}/release/", "id"): lambda w, u: w.examples["assignment"].pk,
    ("/api/v1/assignments/{id}/withhold/", "id"): lambda w, u: w.examples["assignment"].pk,
    ("/api/v1/courses/{id}/", "id"): lambda w, u: w.course.pk,
    ("/api/v1/courses/{id}/annotations/", "id"): lambda w, u: w.course.pk,
    ("/api/v1/courses/{id}/annotations/import/", "id"): lambda w, u: w.course.pk,
    ("/api/v1/courses/{id}/joining/", "id"): lambda w, u: w.course.pk,
    ("/api/v1/courses/{id}/members/", "id"): lambda w, u: w.course.pk,
    ("/api/v1/courses/{id}/members/{user_id}/", "id"): lambda w, u: w.course.pk,
    ("/api/v1/courses/{id}/members/{user_id}/", "user_id"): lambda w, u: w.groupmate.pk,
    ("/api/v1/courses/{id}/regenerate_code/", "id"): lambda w, u: w.course.pk,
    ("/api/v1/documents/{slug}/", "slug"): lambda w, u: w.paper.slug,
    ("/api/v1/event-proposals/{id}/", "id"): lambda w, u: w.examples["event_proposal"].pk,
    ("/api/v1/event-proposals/{id}/decide/", "id"): lambda w, u: w.examples["event_proposal"].pk,
    ("/api/v1/events/{key}/", "key"): lambda w, u: w.event.key,
    ("/api/v1/actors/{key}/", "key"): lambda w, u: w.actor.key,
    ("/api/v1/claims/{key}/", "key"): lambda w, u: w.claim.key,
    ("/api/v1/flags/{id}/", "id"): lambda w, u: w.examples["flag"].pk,
    ("/api/v1/groups/{id}/", "id"): lambda w, u: w.group_b.pk,
    ("/api/v1/links/{id}/", "id"): lambda w, u: w.examples["link"].pk,
    ("/api/v1/links/{id}/decide/", "id"): lambda w, u: w.examples["link"].pk,
    ("/api/v1/moderation/{id}/", "id"): lambda w, u: w.examples["item"].pk,
    ("/api/v1/moderation/{id}/act/", "id"): lambda w, u: w.examples["item"].pk,
    ("/api/v1/notifications/{id}/", "id"): lambda w, u: (
        u.notifications.order_by("pk").values_list("pk", flat=True).first() or 0
    ),
    ("/api/v1/paragraphs/{id}/", "id"): lambda w, u: w.paragraph.pk,
    ("/api/v1/posts/{id}/", "id"): lambda w, u: w.examples["post"].pk,
    ("/api/v1/posts/{id}/helpful/", "id"): lambda w, u: w.examples["post"].pk,
    ("/api/v1/sources/{key}/", "key"): lambda w, u: w.examples["source"].key,
    ("/api/v1/threads/{id}/", "id"): lambda w, u: w.examples["thread"].pk,
}


@dataclass
class Fuzz:
    world: World
    users: dict[str, Any]
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def fuzz(django_db_setup, django_db_blocker) -> Iterator[Fuzz]:
    """A course with data, and a token for its student and instructor; rolled back at the end.

    The requests go through the WSGI application itself, which would close the database
    connection at the start and end of each request, and with it the transaction that holds
    the course: Django's own test client turns that off the same way.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    # Every operation's writes, as fast as they come: the write throttle has its own tests.
    with override_settings(WRITE_RATE="100000/minute"), django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            world = build_world()
            users = {"student": world.student, "instructor": world.instructor}
            tokens = {who: Token.objects.create(user=user).key for who, user in users.items()}
            yield Fuzz(world=world, users=users, tokens=tokens)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


def _aim(case: Any, fuzz: Fuzz, who: str) -> None:
    """Point most generated path parameters at the course's real objects; the rest stay as
    generated, so unknown and malformed ones are tried too."""
    for name, value in list((case.path_parameters or {}).items()):
        known = KNOWN.get((case.operation.path, name))
        if known is None:
            continue
        if zlib.crc32(repr(value).encode()) % 4:
            case.path_parameters[name] = known(fuzz.world, fuzz.users[who])


# One test per operation, each example sent as both users: half the generating of two tests.
@pytest.mark.parametrize("users", [("student", "instructor")], ids=["student+instructor"])
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_its_schema_says(case, users: tuple[str, ...], fuzz: Fuzz, db) -> None:
    for who in users:
        _aim(case, fuzz, who)
        case.call_and_validate(headers={"Authorization": f"Token {fuzz.tokens[who]}"}, checks=CHECKS)
