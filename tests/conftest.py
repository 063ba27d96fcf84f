"""Shared test setup: no test writes to the real user data directory."""

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _labkit_db(tmp_path_factory):
    """Point the run store (LABKIT_DB) at a per-session temporary SQLite file for every test and subprocess."""
    old = os.environ.get("LABKIT_DB")
    path = tmp_path_factory.mktemp("labkit_db") / "labkit.sqlite"
    os.environ["LABKIT_DB"] = str(path)
    yield path
    if old is None:
        os.environ.pop("LABKIT_DB", None)
    else:
        os.environ["LABKIT_DB"] = old


@pytest.fixture
def chromium(tmp_path):
    """Headless Chromium's command prefix (a fresh profile, no network), or skip when it is not installed."""
    import shutil
    from pathlib import Path

    exe = next((c for c in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"))
                if c and Path(c).exists()), None)
    if exe is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run installs it in CI)")
    return [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
            "--v=0", "--host-resolver-rules=MAP * ~NOTFOUND"]


@pytest.fixture
def verified(tmp_path):
    """Run a plan as its protocol: emit it into tmp_path, run the real Opentrons analysis in-process and verify the
    ledger against the experiment (the whole recipe, timing included); fails on an engine error or a failed check.
    Returns (the simulation, the verification report)."""
    from labkit.protocol.emit import emit
    from labkit.simulate import simulate, verify_experiment

    def run(plan, exp, name: str = "protocol"):
        path = tmp_path / f"{name}.py"
        path.write_text(emit(plan), encoding="utf-8")
        sim = simulate(path, in_process=True)
        assert not sim.errors, [str(e) for e in sim.errors[:3]]
        report = verify_experiment(sim.ledger, exp, sim.timeline)
        assert report.ok, report.summary()
        return sim, report

    return run
