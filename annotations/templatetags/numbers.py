"""Counts as people read them, with the active language's digit grouping.

``USE_THOUSAND_SEPARATOR`` stays off, so ids in URLs, element ids, data attributes,
coordinates, years and form values print as plain digits; counts shown to a reader opt in
with ``|grouped``: ``12,345`` in English, ``12 345`` (a no-break space) in Russian.
"""

from __future__ import annotations

from django import template
from django.utils.formats import number_format

register = template.Library()


class GroupedCount(int):
    """An ``int`` that prints with the active language's digit grouping.

    It stays a number so that ``{% blocktranslate count counter=n|grouped %}`` can still
    choose the plural form by it (the tag refuses a string) while printing ``{{ counter }}``
    grouped. The language is the one active when it is printed.
    """

    def __str__(self) -> str:
        return number_format(int(self), force_grouping=True)

    def __format__(self, spec: str) -> str:
        return str(self) if not spec else format(int(self), spec)


@register.filter
def grouped(value: object) -> object:
    """``value`` as a :class:`GroupedCount` if it is a whole number (or a string of one);
    anything else (``None``, text, a decimal score) unchanged."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return GroupedCount(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return GroupedCount(int(value))
    return value
