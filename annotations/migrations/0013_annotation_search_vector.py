"""A stored full-text vector for annotations, kept by the database, on PostgreSQL only.

The ``search_vector`` column holds ``to_tsvector('english', body || ' ' || exact)``. A
trigger computes it whenever a row is inserted or its ``body`` or ``exact`` changes, so
ranking a search's matches reads the vector instead of parsing every matching note again,
and the GIN index is built on the column. It replaces the expression index of
``0010_search_indexes``, which nothing queries any more.

The column is the database's, not the model's: Django neither reads nor writes it, so it
costs nothing to the pages that list annotations, and it never leaves the database in a
backup or an export (it is a copy of the notes' words). The trigger fires ``ALWAYS``, also
under ``session_replication_role = replica``, which the bulk loads of
``generate_scale_data`` use. SQLite searches with ``icontains`` and needs none of this.
"""

from __future__ import annotations

from django.db import migrations

from annotations import search

TABLE = "annotations_annotation"
COLUMN = "search_vector"  # search.ANNOTATIONS.column
INDEX = "annotation_vector_idx"  # search.ANNOTATIONS.column_index_name
TRIGGER = "annotation_search_vector_update"

FORWARD = [
    f"ALTER TABLE {TABLE} ADD COLUMN {COLUMN} tsvector",
    # 0010's expression index, dropped first so that the backfill does not update it too.
    "DROP INDEX IF EXISTS annotation_search_idx",
    # The same vector as the trigger's: tsvector_update_trigger parses the columns as one text.
    f"UPDATE {TABLE} SET {COLUMN} = to_tsvector('pg_catalog.english', body || ' ' || exact)",
    f"CREATE TRIGGER {TRIGGER} BEFORE INSERT OR UPDATE OF body, exact ON {TABLE} FOR EACH ROW "
    f"EXECUTE FUNCTION tsvector_update_trigger({COLUMN}, "
    f"'pg_catalog.english', body, exact)",
    f"ALTER TABLE {TABLE} ENABLE ALWAYS TRIGGER {TRIGGER}",
    "SET LOCAL maintenance_work_mem = '512MB'",
    f"CREATE INDEX {INDEX} ON {TABLE} USING gin ({COLUMN})",
    f"ANALYZE {TABLE}",
]

BACKWARD = [
    f"DROP TRIGGER IF EXISTS {TRIGGER} ON {TABLE}",
    f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS {COLUMN}",
]


def add_search_vector(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in FORWARD:
        schema_editor.execute(statement)


def remove_search_vector(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in BACKWARD:  # the column's index goes with the column
        schema_editor.execute(statement)
    schema_editor.add_index(apps.get_model("annotations", "annotation"), search.ANNOTATIONS.index())


class Migration(migrations.Migration):
    dependencies = [("annotations", "0012_reading_newest_index")]

    operations = [migrations.RunPython(add_search_vector, remove_search_vector)]
