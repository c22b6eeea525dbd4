"""Send reads to the read replica, and everything else to the primary.

Active when ``DATABASE_REPLICA_URL`` is set (the alias ``replica``):

- a read goes to ``replica`` only when no transaction is open on ``default``. Inside
  ``transaction.atomic()`` a read must see the writes made earlier in the same
  transaction, and the replica — a separate connection, lagging behind — would not;
- every write, and every ``select_for_update()`` (Django routes it as a write), goes to
  ``default``;
- objects read from either alias may be related to each other: both hold the same data;
- migrations run only on ``default``; the replica receives them by replication.

The router does not pin a user to the primary after a write: if replication lags, the
page shown after a redirect may briefly miss what the previous request wrote.
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Model

REPLICA_DB_ALIAS = "replica"
_ALIASES = {DEFAULT_DB_ALIAS, REPLICA_DB_ALIAS}


class ReplicaRouter:
    """Reads outside transactions to the replica; writes, and reads inside one, to the primary."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        if transaction.get_connection(DEFAULT_DB_ALIAS).in_atomic_block:
            return DEFAULT_DB_ALIAS
        return REPLICA_DB_ALIAS

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        if obj1._state.db in _ALIASES and obj2._state.db in _ALIASES:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS
