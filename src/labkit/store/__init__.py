"""The run store: every analysis recorded (SQLite by default, PostgreSQL for a lab) and the assay's history.

    from labkit.store import open_store, record_result
    record_result(result, layout="layouts/kinase_panel.yaml", readouts=["counts.txt"])   # -> Recorded
    labkit runs list / labkit history                                                      # the CLI

Modules: db (where the store is, migrations on connect), models (tables), record (one run per transaction),
history (control charts, potency across runs, HTML), cli (`labkit runs`, `labkit history`).
"""

from __future__ import annotations

from labkit.store.db import ENV, StoreError, open_store, resolve_url
from labkit.store.record import Recorded, record_analysis, record_result

__all__ = ["ENV", "Recorded", "StoreError", "open_store", "record_analysis", "record_result", "resolve_url"]
