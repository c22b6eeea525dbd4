"""Template filters for course work."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from annotations import permissions
from annotations.grading import format_score

register = template.Library()

ANONYMOUS = _("Anonymous classmate")


@register.filter
def author_for(work, user) -> str:
    """The author's name as ``user`` may see it: classmates see "Anonymous classmate" on
    work made for an anonymous assignment; its author and the course's staff see the name."""
    if not permissions.can_see_author(user, work):
        return ANONYMOUS
    return work.author.get_full_name() or work.author.get_username()


@register.filter
def score(value) -> str:
    """A score or a number of points as people write it (``10``, ``7.5``); empty for none."""
    return "" if value is None else format_score(value)
