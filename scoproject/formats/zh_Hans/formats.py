"""Simplified Chinese number formats: digits grouped by three with a comma ("12,345"), as
CLDR and mainland usage write them in running text.

Django's own zh_Hans formats have no thousand separator, so grouped counts would print as
"12345". Dates and times keep Django's formats.
"""

from __future__ import annotations

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
