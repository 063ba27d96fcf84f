"""Where the run store is and how to open it: SQLite by default, PostgreSQL by URL; migrated on connect.

Resolution order: an explicit `--db PATH|URL`, then the LABKIT_DB environment variable, then
`labkit.sqlite` in the user's data directory (platformdirs; ~/.local/share/labkit without it).
A bare path means SQLite; `postgresql://…` is read with psycopg 3 (`postgresql+psycopg://…`).

SQLite transactions begin with BEGIN IMMEDIATE (one writer at a time, others wait up to 60 s), so two
labkit processes recording at once both land; PostgreSQL serialises the schema migration with an advisory lock.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from labkit.errors import LabkitError

ENV = "LABKIT_DB"
MIGRATIONS = Path(__file__).parent / "migrations"
_ADVISORY_LOCK = 0x6C61626B  # 'labk': serialises schema migrations of one PostgreSQL database


class StoreError(LabkitError):
    """The run store cannot be opened or written (bad URL, unreachable server, newer schema)."""


def default_path() -> Path:
    """The default SQLite file: labkit.sqlite in the user's data directory."""
    try:
        from platformdirs import user_data_dir

        base = Path(user_data_dir("labkit", appauthor=False))
    except ImportError:  # pragma: no cover - platformdirs is a dependency
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "labkit"
    return base / "labkit.sqlite"


def resolve_url(db: str | os.PathLike | None = None) -> str:
    """The SQLAlchemy URL of the run store from --db, LABKIT_DB or the default file."""
    value = str(db) if db not in (None, "") else os.environ.get(ENV) or str(default_path())
    if "://" not in value:
        path = Path(value).expanduser().resolve()
        return f"sqlite:///{path}"
    for plain in ("postgresql://", "postgres://"):
        if value.startswith(plain):
            value = "postgresql+psycopg://" + value[len(plain):]
    try:
        url = make_url(value)
    except ArgumentError as exc:
        raise StoreError(f"cannot read the database URL {redact(value)!r}: {exc}; expected a file path, "
                         "sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB", field="--db") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(f"unsupported database {url.get_backend_name()!r} in {redact(value)!r}; "
                         "labkit stores runs in SQLite or PostgreSQL", field="--db")
    return value


def redact(url: str) -> str:
    """The URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _sqlite_begin_immediate(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN and skips it for DDL; take it over (SQLAlchemy's recipe)
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):  # noqa: ANN001
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):  # noqa: ANN001
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """An engine for the store URL (SQLite: directory created, immediate transactions, 60 s busy wait)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            try:
                Path(u.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the run store's folder {Path(u.database).parent}: "
                                 f"{exc.strerror} (--db PATH chooses another place)", field="--db") from None
        engine = create_engine(url, connect_args={"timeout": 60})
        _sqlite_begin_immediate(engine)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except ModuleNotFoundError as exc:
        raise StoreError(f"cannot use {redact(url)}: {exc.name} is not installed; "
                         "pip install 'labkit[postgres]' (psycopg 3)", field="--db") from None


def alembic_config(connection=None):  # noqa: ANN001, ANN201
    """An Alembic Config pointing at the packaged migrations (no alembic.ini needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the store's schema to the newest revision, in one transaction (serialised between processes)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK})
        current = MigrationContext.configure(conn).get_current_revision()
        if current == head:
            return
        known = {s.revision for s in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}
        if current is not None and current not in known:
            raise StoreError(f"the run store {redact(str(engine.url))} has schema revision {current}, newer than "
                             f"this labkit knows ({head}); upgrade labkit", field="--db")
        command.upgrade(alembic_config(conn), "head")


def revision(message: str) -> None:  # pragma: no cover - developer tool
    """Autogenerate a new migration from the models against a scratch SQLite database at head."""
    import tempfile

    from alembic import command

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/scratch.sqlite")
        migrate(engine)
        with engine.begin() as conn:
            command.revision(alembic_config(conn), message=message, autogenerate=True)


class Store:
    """An open run store: an engine whose schema is at the newest revision, and sessions on it."""

    def __init__(self, db: str | os.PathLike | None = None) -> None:
        self.url = resolve_url(db)
        self.engine = make_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        try:  # cheap when already at head: one short transaction reading alembic_version
            migrate(self.engine)
        except DBAPIError as exc:  # unreachable server, bad password, a file that is not a database
            self.engine.dispose()
            raise StoreError(f"cannot open the run store {redact(self.url)}: {str(exc.orig).strip()} "
                             "(--no-store skips recording)", field="--db") from None

    @property
    def display(self) -> str:
        """The store's URL with the password hidden."""
        return redact(self.url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back on any exception."""
        with self._sessions() as s, s.begin():
            yield s

    def close(self) -> None:
        """Release the store's connections."""
        self.engine.dispose()


def open_store(db: str | os.PathLike | None = None) -> Store:
    """Open (creating or migrating as needed) the run store at --db / LABKIT_DB / the default file."""
    return Store(db)
