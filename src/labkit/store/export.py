"""Export a table of the run store as CSV or Parquet, with its JSON columns spread into ordinary columns."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from labkit.errors import LabkitError
from labkit.store.db import Store
from labkit.store.models import TABLES

JSON_COLUMNS = {"extra": "", "meta": "meta_"}  # JSON column -> prefix of the columns it becomes


def table_frame(store: Store, table: str, *, run_ids: list[int] | None = None) -> pd.DataFrame:
    """A store table as a DataFrame; `extra` keys become columns, `meta` keys meta_<key> columns."""
    from sqlalchemy import select

    if table not in TABLES:
        raise LabkitError(f"unknown table {table!r}; expected one of {', '.join(TABLES)}", field="table")
    model = TABLES[table]
    cols = list(model.__table__.columns)
    c = model.__table__.c
    q = select(*cols).order_by(c.id)
    if run_ids:
        q = q.where((c.id if table == "runs" else c.run_id).in_(run_ids))
    with store.engine.connect() as conn:
        df = pd.DataFrame(conn.execute(q).mappings().all(), columns=[c.key for c in cols])
    for col, prefix in JSON_COLUMNS.items():
        if col in df.columns:
            spread = pd.DataFrame([v or {} for v in df[col]], index=df.index)
            spread.columns = [f"{prefix}{c}" if f"{prefix}{c}" not in df.columns else f"{col}_{c}"
                              for c in spread.columns]
            df = pd.concat([df.drop(columns=[col]), spread], axis=1)
    for col in ("options", "notes"):  # small JSON values of runs: kept as JSON text
        if col in df.columns:
            import json

            df[col] = [json.dumps(v, sort_keys=True) for v in df[col]]
    return df


def export_table(store: Store, table: str, output: str | os.PathLike, *, run_ids: list[int] | None = None) -> int:
    """Write a store table to output (.parquet, else CSV) atomically; returns the number of rows."""
    df = table_frame(store, table, run_ids=run_ids)
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    if out.suffix.lower() == ".parquet":
        for c in df.columns:  # mixed-type JSON keys (numbers and text) must be one type for Parquet
            if df[c].dtype == object and df[c].map(type).nunique() > 1:
                df[c] = df[c].map(lambda v: v if v is None or isinstance(v, str) else str(v))
        df.to_parquet(tmp, index=False)
    else:
        df.to_csv(tmp, index=False, lineterminator="\n")
    os.replace(tmp, out)
    return len(df)
