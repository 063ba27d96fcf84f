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
