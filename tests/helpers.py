"""Small helpers shared by tests."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def queries_for(client: Client, url: str) -> int:
    """How many queries one GET of ``url`` runs (asserting it succeeds)."""
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(context.captured_queries)


def plan_with_only(index: str, sql: str, params: list | tuple = ()) -> str:
    """PostgreSQL's plan for ``sql`` with ``index`` the only one of the notes' own indexes
    left (the others, but for those of constraints, are dropped inside the test's
    transaction, which rolls back) and no reading of the whole table. On a table of a few
    rows, never vacuumed, the planner prices every index alike and picks among them by its
    statistics of the moment: the plan then shows whether that index can answer by itself
    (an index-only scan) or must read rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = 'annotations_annotation'::regclass AND i.relname <> %s "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
            [index],
        )
        for (other,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{other}"')
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {sql}", params or None)
        return "\n".join(row[0] for row in cursor.fetchall())
