"""Alembic migrations of the run store, run programmatically by labkit.store.db.migrate (no alembic.ini)."""
