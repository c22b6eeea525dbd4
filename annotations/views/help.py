"""Help pages: what the platform's words mean and how its rules work, for every visitor.

The pages are plain HTML written from the code's own rules (``annotations.grading``, the
evidence rule in ``annotations.services.challenges``, ``annotations.services.moderation``);
the few lists they show (stances, statuses, flag reasons) come from the models' choices, so
a new choice shows up here by itself.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.utils.translation import gettext_noop as _
from django.views.decorators.http import require_safe

from annotations.models.annotation import Visibility
from annotations.models.challenges import ChallengeStatus, EvidenceStatus, Stance
from annotations.models.moderation import FlagReason
from annotations.services.challenges import EVIDENCE_RULES, MAX_CITATIONS, NEEDS_A_SOURCE


def evidence_order() -> list[EvidenceStatus]:
    """The evidence statuses in the order the rule tries them: an erratum first, then the
    challenge rules as ``evidence_for`` applies them, and "unchallenged" when none matches."""
    return [
        EvidenceStatus.CORRECTED,
        *(status for status, _condition in EVIDENCE_RULES),
        EvidenceStatus.UNCHALLENGED,
    ]


# Each topic: its address's last part, its title and a line for the index, in reading order.
# The words are marked for translation here and translated per request in `_context`.
TOPICS: dict[str, tuple[str, str]] = {
    "annotations": (_("Annotations"), _("Notes on the reading: who sees them, and how to select text with a mouse or a keyboard.")),
    "challenges": (_("Challenges"), _("Making a case about a claim: stances, sources, responses and how staff resolve it.")),
    "evidence": (_("Evidence status"), _("What “unchallenged”, “contested”, “disputed”, “supported” and “corrected” mean, and how a claim gets one.")),
    "assignments": (_("Assignments and grades"), _("What counts toward an assignment, due dates, the late window, extensions, scores and released grades.")),
    "moderation": (_("Flags and moderation"), _("Reporting work, what hiding does, and work that waits for approval.")),
    "instructors": (_("For instructors"), _("Setting up a course: the join code, groups, assignments and moderation.")),
}  # fmt: skip


def _context(topic: str | None) -> dict[str, Any]:
    return {
        "nav": "help",
        "topic": topic,
        "topics": [(slug, gettext(title), gettext(summary)) for slug, (title, summary) in TOPICS.items()],
        "visibilities": Visibility.choices,
        "stances": Stance.choices,
        "resolutions": [c for c in ChallengeStatus.choices if c[0] != ChallengeStatus.OPEN],
        "needs_a_source": [Stance(stance).label for stance in NEEDS_A_SOURCE],
        "max_citations": MAX_CITATIONS,
        "evidence_order": evidence_order(),
        "flag_reasons": FlagReason.choices,
    }


@require_safe
def help_index(request: HttpRequest) -> HttpResponse:
    """The help section's table of contents."""
    return render(request, "annotations/help/index.html", _context(None))


@require_safe
def help_topic(request: HttpRequest, topic: str) -> HttpResponse:
    """One help page; an unknown topic is a 404."""
    if topic not in TOPICS:
        raise Http404("No such help page.")
    context = _context(topic)
    context["title"] = gettext(TOPICS[topic][0])
    return render(request, f"annotations/help/{topic}.html", context)
