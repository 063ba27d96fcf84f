"""The run store: every analysis recorded (SQLite by default, PostgreSQL for a lab) and the assay's history.

    from labkit.store import open_store, record_result
    record_result(result, layout="layouts/kinase_panel.yaml", readouts=["counts.txt"])   # -> Recorded
    labkit runs list / labkit history                                                      # the CLI

Modules: db (where the store is, migrations on connect), models (tables), record (one run per transaction),
history (control charts, potency across runs, HTML), cli (`labkit runs`, `labkit history`).
"""

from __future__ import annotations

import importlib
from typing import Any

# imported on first use, so `labkit runs --help` does not load SQLAlchemy
_EXPORTS = {"ENV": "db", "StoreError": "db", "open_store": "db", "resolve_url": "db", "Recorded": "record",
            "record_analysis": "record", "record_result": "record"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"labkit.store.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'labkit.store' has no attribute {name!r}")
