"""Alembic environment of the run store: always given a live connection by labkit.store.db.migrate.

To write a new revision after changing labkit/store/models.py (a developer task):
    python -c "from labkit.store.db import revision; revision('what changed')"
"""

from __future__ import annotations

from alembic import context

from labkit.store.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through labkit.store.db
    raise RuntimeError("the run store's migrations run through labkit.store.db.migrate (a connection is needed)")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
