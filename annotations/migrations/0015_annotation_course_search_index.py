"""Annotations' search index keyed by course too, on PostgreSQL only.

A course's search for a common word matched a fifth of all the notes in the word's GIN
posting list before the course narrowed them. With the course as a key of the same GIN
index (``btree_gin``), the index intersects the two lists itself. A search without a
course reads the vector's key alone, as it did.
"""

from __future__ import annotations

from django.contrib.postgres.operations import BtreeGinExtension
from django.db import migrations

TABLE = "annotations_annotation"
INDEX = "annotation_vector_idx"  # search.ANNOTATIONS.column_index_name

FORWARD = [
    f"DROP INDEX IF EXISTS {INDEX}",
    "SET LOCAL maintenance_work_mem = '512MB'",
    f"CREATE INDEX {INDEX} ON {TABLE} USING gin (course_id, search_vector)",
]
BACKWARD = [
    f"DROP INDEX IF EXISTS {INDEX}",
    f"CREATE INDEX {INDEX} ON {TABLE} USING gin (search_vector)",
]


def _run(statements: list[str]):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("annotations", "0014_reply_author_created_index")]

    operations = [
        # A no-op on SQLite (CreateExtension checks the vendor); btree_gin is a trusted extension.
        BtreeGinExtension(),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
    ]
