"""GIN indexes for full-text search, on PostgreSQL only.

SQLite has neither ``to_tsvector`` nor GIN indexes; search falls back to ``icontains``
there (see ``annotations.search``). Each index is built from the same ``SearchVector``
the search query filters on, so the planner matches the two.
"""

from __future__ import annotations

from django.db import migrations

from annotations import search

INDEXED = [("claim", search.CLAIMS), ("annotation", search.ANNOTATIONS), ("source", search.SOURCES)]


def add_search_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, searchable in INDEXED:
        schema_editor.add_index(apps.get_model("annotations", model_name), searchable.index())


def remove_search_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, searchable in INDEXED:
        schema_editor.remove_index(apps.get_model("annotations", model_name), searchable.index())


class Migration(migrations.Migration):
    dependencies = [("annotations", "0009_moderation")]

    operations = [migrations.RunPython(add_search_indexes, remove_search_indexes)]
