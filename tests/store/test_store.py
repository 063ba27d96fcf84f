"""The run store on SQLite and a real PostgreSQL: schema, recording, idempotence, versions, transactions,
concurrent writers and a writer killed mid-transaction."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "data" / "store"))
from store_synth import KINASE, VIABILITY, analysis  # noqa: E402

from labkit.store import open_store, record_analysis, record_result, resolve_url  # noqa: E402
from labkit.store.db import StoreError  # noqa: E402
from labkit.store.export import table_frame  # noqa: E402
from labkit.store.history import load_tables  # noqa: E402
from labkit.store.models import Fit, PlateQC, Readout, Run  # noqa: E402
from labkit.store.record import build_run, write_run  # noqa: E402

PG_ENV = "LABKIT_TEST_PG_URL"
SRC = Path(__file__).resolve().parents[2] / "src"


def _pg_admin_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set: no PostgreSQL server to test against (.ci/run starts one; locally "
                    f"e.g. {PG_ENV}=postgresql+psycopg://labkit:labkit@127.0.0.1/labkit)")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty database per test: a SQLite file, or a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    admin = resolve_url(_pg_admin_url())
    name = f"labkit_t_{uuid.uuid4().hex[:16]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        engine.dispose()
        pytest.skip(f"PostgreSQL at {make_url(admin).render_as_string(hide_password=True)} is not reachable: "
                    f"{str(exc.orig).strip().splitlines()[0]}")
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        _drop(engine, name)


def _drop(engine, name: str) -> None:
    """Drop a test database; autovacuum may hold it for a moment (and FORCE cannot end a superuser's worker)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    try:
        for attempt in range(50):
            try:
                with engine.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                return
            except DBAPIError:
                if attempt == 49:
                    raise
                time.sleep(0.1)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three real analyses from real instrument files: two viability seeds and one kinase run."""
    out = tmp_path_factory.mktemp("store_runs")
    return {"v1": (VIABILITY, *analysis(VIABILITY, out, 1)), "v2": (VIABILITY, *analysis(VIABILITY, out, 2)),
            "k1": (KINASE, *analysis(KINASE, out, 3))}


def _record(db, item, **kw):
    layout, result, readout = item
    return record_result(result, layout=layout, readouts=[readout], db=db, **kw)


def _count(store, model) -> int:
    from sqlalchemy import func, select

    with store.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_resolve_url(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_DB", str(tmp_path / "env.sqlite"))
    assert resolve_url(None) == f"sqlite:///{tmp_path / 'env.sqlite'}"
    assert resolve_url(tmp_path / "x.sqlite") == f"sqlite:///{tmp_path / 'x.sqlite'}"
    assert resolve_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    monkeypatch.delenv("LABKIT_DB")
    assert resolve_url(None).endswith("/labkit/labkit.sqlite")
    with pytest.raises(StoreError, match="unsupported database 'mysql'"):
        resolve_url("mysql://u@h/db")


def test_tests_never_use_the_users_own_store():
    from labkit.store.db import default_path

    assert resolve_url(None) != f"sqlite:///{default_path()}"  # conftest points LABKIT_DB at a temporary file
    assert "labkit_db" in os.environ["LABKIT_DB"]


def test_migrations_create_the_models_schema(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from labkit.store.models import Base

    store = open_store(db_url)
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert ctx.get_current_revision() == "0001"
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], diff
    open_store(db_url).close()  # opening again (already at head) changes nothing
    from alembic import command
    from sqlalchemy import inspect

    from labkit.store.db import alembic_config

    with store.engine.begin() as conn:  # the migration reverses cleanly, and applies again on the next open
        command.downgrade(alembic_config(conn), "base")
    assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}
    store.close()
    store = open_store(db_url)
    assert {"runs", "readouts", "plate_qc", "fits"} <= set(inspect(store.engine).get_table_names())
    store.close()


def test_record_stores_every_result_and_qc_column(db_url, runs):
    layout, result, readout = runs["k1"]
    rec = _record(db_url, runs["k1"])
    assert rec.created and rec.version == 1 and rec.previous_id is None
    store = open_store(db_url)
    fits = table_frame(store, "fits")
    res = result.results
    assert len(fits) == len(res) == 2
    assert set(res.columns) - {"target", "ic50_M", "ic50_ci_low_M", "ic50_ci_high_M"} <= set(fits.columns)
    for i, row in enumerate(res.to_dict("records")):
        got = fits.iloc[i]
        assert got["group_name"] == row["target"] and got["compound"] == row["compound"]
        assert got["ic50_m"] == pytest.approx(row["ic50_M"], rel=1e-12)
        assert got["ic50_ci_high_m"] == pytest.approx(row["ic50_ci_high_M"], rel=1e-12)
        for col in ("ic50_nM", "hill_se", "top_se", "rse", "df", "plates", "pic50", "r2"):
            assert got[col] == pytest.approx(row[col], nan_ok=True) if isinstance(row[col], float) else got[col] == row[col], col
    qc = table_frame(store, "plate_qc")
    assert len(qc) == len(result.qc)
    assert list(qc["low_role"].unique()) == ["no_enzyme"]
    np.testing.assert_allclose(qc["low_mean"], result.qc["no_enzyme_mean"])
    np.testing.assert_allclose(qc["z_prime"], result.qc["z_prime"])
    assert "controls" in qc.columns and "controls_excluded" in qc.columns  # untyped QC columns kept in extra
    rd = table_frame(store, "readouts").iloc[0]
    assert rd["format"] == "microbeta" and rd["bytes"] == readout.stat().st_size
    assert rd["meta_instrument"] == "2450 MicroBeta2" and rd["meta_barcode"] == "KIN-2"
    with store.session() as s:
        run = s.get(Run, rec.run_id)
        assert run.layout_text == Path(layout).read_text(encoding="utf-8")
        assert run.assay == "kinase_radiometric" and run.n_fits == 2 and run.qc_pass is True
    store.close()


def test_new_result_columns_and_nan_are_kept(db_url, runs, tmp_path):
    """Columns a later fit adds (model, AIC, CI method) and NaN values survive the store."""
    layout, result, readout = runs["v1"]
    res = result.results.assign(model="LL.3", aic=-12.5, ci_method="profile", ic50_ci_low_M=np.nan)
    rec = record_analysis(layout=layout, readouts=[readout], results=res, qc=result.qc, assay=result.assay,
                          db=db_url, group_col="cell_line")
    assert rec.created
    store = open_store(db_url)
    fits = table_frame(store, "fits")
    assert fits.loc[0, "model"] == "LL.3" and fits.loc[0, "aic"] == -12.5 and fits.loc[0, "ci_method"] == "profile"
    assert pd.isna(fits.loc[0, "ic50_ci_low_m"])
    store.close()


def test_same_readout_is_recorded_once_and_reanalysis_is_a_new_version(db_url, runs):
    first = _record(db_url, runs["v1"])
    again = _record(db_url, runs["v1"])
    assert (again.run_id, again.created) == (first.run_id, False)
    layout, result, readout = runs["v1"]
    result.fix_top = 100.0
    try:
        second = _record(db_url, runs["v1"])
    finally:
        result.fix_top = None
    assert second.created and second.version == 2 and second.previous_id == first.run_id
    other = _record(db_url, runs["v2"])
    assert other.created and other.version == 1
    store = open_store(db_url)
    newest = load_tables(store)["runs"]
    every = load_tables(store, all_versions=True)["runs"]
    assert sorted(newest["id"]) == sorted([second.run_id, other.run_id])
    assert sorted(every["id"]) == sorted([first.run_id, second.run_id, other.run_id])
    assert _count(store, Fit) == 3 and _count(store, Readout) == 3
    store.close()


def test_a_failing_write_leaves_no_partial_run(db_url, runs):
    layout, result, readout = runs["v1"]
    store = open_store(db_url)
    with pytest.raises(RuntimeError, match="disk full"):
        with store.session() as s:
            run, created = write_run(s, build_run(layout=layout, readouts=[readout], results=result.results,
                                                  qc=result.qc, assay=result.assay))
            assert created and run.id is not None  # the run, its readouts, QC rows and fits are flushed ...
            raise RuntimeError("disk full")      # ... and the analysis fails before the commit
    assert [_count(store, m) for m in (Run, Readout, PlateQC, Fit)] == [0, 0, 0, 0]
    assert _record(store.url, runs["v1"]).created  # the store is usable afterwards
    store.close()


# --- real processes ------------------------------------------------------------------------------------------

CHILD = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    import pandas as pd
    sys.path.insert(0, {src!r})
    from labkit.store import record_analysis
    args = sys.argv[1:]
    db, go, layout, assay = args[:4]
    jobs = [tuple(a.split("|")) for a in args[4:]]
    while not Path(go).exists():
        time.sleep(0.01)
    for results, qc, readout, fix_top in jobs:
        rec = record_analysis(layout=layout, readouts=[readout], results=pd.read_pickle(results),
                              qc=pd.read_pickle(qc), assay=assay, db=db,
                              options={{"fix_top": float(fix_top) if fix_top else None}})
        print(rec.run_id, rec.version, rec.created, flush=True)
""")


def _frames(tmp_path, name, result):
    r, q = tmp_path / f"{name}_results.pkl", tmp_path / f"{name}_qc.pkl"
    result.results.to_pickle(r)
    result.qc.to_pickle(q)
    return f"{r}|{q}"


def test_concurrent_writers_all_land_once(db_url, runs, tmp_path):
    """Four processes open a new store and record at once: each its own readout, and all four a shared one."""
    layout, result, _readout = runs["v1"]
    frames = _frames(tmp_path, "v1", result)
    shared = tmp_path / "shared.csv"
    shared.write_bytes(runs["v1"][2].read_bytes())
    own = []
    for k in range(4):  # distinct files (a header line differs), so four distinct readout hashes
        p = tmp_path / f"own{k}.csv"
        p.write_bytes(runs["v1"][2].read_bytes() + f"\nrun {k}\n".encode())
        own.append(p)
    go = tmp_path / "go"  # the database is empty: the four also race to create the schema
    script = CHILD.format(src=str(SRC))
    reanalysed = tmp_path / "reanalysed.csv"  # four different analyses (options) of one readout at once
    reanalysed.write_bytes(runs["v1"][2].read_bytes() + b"\nreanalysed\n")
    procs = [subprocess.Popen([sys.executable, "-c", script, db_url, str(go), str(layout), result.assay,
                               f"{frames}|{own[k]}|", f"{frames}|{shared}|", f"{frames}|{reanalysed}|{90 + k}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in range(4)]
    time.sleep(0.5)
    go.touch()
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    lines = [ln.split() for o in outs for ln in o[0].splitlines()]
    assert len(lines) == 12
    created = [ln for ln in lines if ln[2] == "True"]
    assert len(created) == 9                                  # 4 own + the shared one once + 4 re-analyses
    assert len({ln[0] for ln in lines}) == 9                  # the 3 others got the shared run's id back
    store = open_store(db_url)
    assert _count(store, Run) == 9
    assert _count(store, Fit) == 9 * len(result.results)      # every run whole
    assert _count(store, PlateQC) == 9 * len(result.qc)
    assert _count(store, Readout) == 9
    from sqlalchemy import select

    with store.session() as s:
        key = s.scalar(select(Readout.run_id).where(Readout.path == str(reanalysed)).limit(1))
        chain = s.scalars(select(Run).where(Run.readout_key == s.get(Run, key).readout_key)
                          .order_by(Run.version)).all()
        assert [r.version for r in chain] == [1, 2, 3, 4]     # one version each, linked in order
        assert [r.previous_id for r in chain] == [None] + [r.id for r in chain[:-1]]
    store.close()


KILLED = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {src!r})
    import pandas as pd
    from labkit.store import open_store
    from labkit.store.record import build_run, write_run
    db, layout, assay, results, qc, readout = sys.argv[1:]
    store = open_store(db)
    with store.session() as s:
        write_run(s, build_run(layout=layout, readouts=[readout], results=pd.read_pickle(results),
                               qc=pd.read_pickle(qc), assay=assay))
        print("written, not committed", flush=True)
        time.sleep(120)
""")


def test_a_writer_killed_mid_transaction_leaves_no_partial_run(db_url, runs, tmp_path):
    layout, result, readout = runs["k1"]
    results, qc = _frames(tmp_path, "k1", result).split("|")
    open_store(db_url).close()
    proc = subprocess.Popen([sys.executable, "-c", KILLED.format(src=str(SRC)), db_url, str(layout), result.assay,
                             results, qc, str(readout)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "written, not committed", proc.stderr.read()[-2000:]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    store = open_store(db_url)
    assert [_count(store, m) for m in (Run, Readout, PlateQC, Fit)] == [0, 0, 0, 0]
    rec = _record(db_url, runs["k1"])                        # not locked: the same run records afterwards
    assert rec.created and rec.version == 1
    assert _count(store, Run) == 1 and _count(store, Fit) == len(result.results)
    store.close()
