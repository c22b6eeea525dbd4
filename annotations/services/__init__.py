"""Writes, one module per concept; every view, endpoint and command calls these."""

from annotations.services.reading import LoadReport, ReadingError, reading_load

__all__ = ["LoadReport", "ReadingError", "reading_load"]
