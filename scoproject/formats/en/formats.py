"""English formats: day, short month and year, as the pages always showed them.

Other languages keep Django's own formats (in Russian, for example, ``27 ноября 2026 г.``).
"""

from __future__ import annotations

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
