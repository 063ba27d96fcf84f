"""Alembic revision scripts of the run store (one per schema change; never edit a released one)."""
