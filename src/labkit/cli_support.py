"""The machinery every `labkit` command shares: -q / -v, --json output, errors as JSON, and shared options.

Output levels (one `UI` per invocation, set by the global options and the command's --json):
  say     normal progress text; hidden by -q and by --json
  result  the final verdict and the paths written; hidden only by --json (which prints them in the document)
  detail  extra detail (planner warnings, timings); shown only with -v
  warn    warnings, on standard error; hidden by -q and --json (the JSON document carries them)
With --json a command prints exactly one JSON document on standard output; an error prints
{"ok": false, "error": {...}} there instead (the human message still goes to standard error), exit code as usual.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from labkit import progress

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class UI:
    """How much a command prints: verbosity -1 (-q), 0, 1 (-v); json: one JSON document on stdout."""

    verbosity: int = 0
    json: bool = False
    started: float = field(default_factory=time.perf_counter)

    @property
    def quiet(self) -> bool:
        """-q: only errors and the final verdict / result paths."""
        return self.verbosity < 0

    @property
    def verbose(self) -> bool:
        """-v: extra detail."""
        return self.verbosity > 0

    def say(self, text: str, *, err: bool = False) -> None:
        """Normal output (hidden by -q and --json)."""
        if not self.quiet and not self.json:
            click.echo(text, err=err)

    def result(self, text: str, *, err: bool = False) -> None:
        """The verdict / result paths (hidden only by --json)."""
        if not self.json:
            click.echo(text, err=err)

    def detail(self, text: str) -> None:
        """-v only, on standard error."""
        if self.verbose and not self.json:
            click.echo(text, err=True)

    def warn(self, text: str) -> None:
        """A warning on standard error (hidden by -q and --json)."""
        if not self.quiet and not self.json:
            click.echo(text, err=True)

    def emit(self, doc: Mapping[str, Any]) -> None:
        """Print the command's JSON document on standard output."""
        click.echo(dumps(doc))


_ui = UI()


def ui() -> UI:
    """The output settings of the running command."""
    return _ui


def _update_progress() -> None:
    progress.enable(not _ui.quiet and not _ui.json and _isatty(sys.stderr))


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or replaced stream (pytest's capture)
        return False


def reset(verbosity: int = 0) -> UI:
    """Start a new invocation's settings (called by the group and by `main`)."""
    global _ui
    _ui = UI(verbosity=verbosity)
    _update_progress()
    return _ui


def set_json(on: bool) -> None:
    """--json was given: JSON on stdout, no progress bars, no text."""
    _ui.json = bool(on)
    _update_progress()


# --- JSON -----------------------------------------------------------------------------------------------------

def jsonable(x: Any) -> Any:
    """A JSON-safe copy: NaN / inf -> null, numpy scalars and arrays unwrapped, paths and dates as text, tables
    (pandas DataFrame) as a list of row objects."""
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, int):
        return x
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, Mapping):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in x]
    if isinstance(x, Path):
        return str(x)
    if isinstance(x, (_dt.datetime, _dt.date)):
        return x.isoformat()
    kind = type(x).__module__.split(".")[0]
    if kind == "numpy":
        return jsonable(x.tolist()) if hasattr(x, "tolist") else str(x)
    if kind == "pandas":
        import pandas as pd

        if isinstance(x, pd.DataFrame):
            return [jsonable(r) for r in x.to_dict("records")]
        if isinstance(x, (pd.Series, pd.Index)):
            return jsonable(x.tolist())
        if pd.isna(x):  # NA, NaT
            return None
        if hasattr(x, "isoformat"):  # Timestamp
            return x.isoformat()
    return str(x)


def dumps(doc: Any) -> str:
    """A JSON document as labkit prints it (indented, UTF-8 text, no NaN)."""
    return json.dumps(jsonable(doc), indent=2, ensure_ascii=False, allow_nan=False)


def error_doc(exc: BaseException, exit_code: int) -> dict[str, Any]:
    """{"ok": false, "error": {type, message, file, line, field, problems, exit_code}} for an error."""
    if isinstance(exc, click.ClickException):
        message, kind = exc.format_message(), "UsageError"
        file = line = fld = None
        problems: list[str] = []
    else:
        message, kind = str(getattr(exc, "message", exc)), type(exc).__name__
        file, line, fld = getattr(exc, "file", None), getattr(exc, "line", None), getattr(exc, "field", None)
        problems = list(getattr(exc, "problems", []) or [])
    return {"ok": False, "error": {"type": kind, "message": message, "file": file, "line": line, "field": fld,
                                   "problems": problems, "exit_code": exit_code}}


def wants_json(args: list[str]) -> bool:
    """Whether this invocation asked for --json (also when parsing failed before the option was seen)."""
    if _ui.json:
        return True
    head = args[:args.index("--")] if "--" in args else args
    return "--json" in head


def json_option(f: F) -> F:
    """--json: print one JSON document on standard output instead of text (errors too, as {"ok": false, ...})."""

    def callback(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
        if value:
            set_json(True)
        return value

    return click.option("--json", "as_json", is_flag=True, callback=callback,
                        help="Print one JSON document on standard output instead of text (an error as "
                             '{"ok": false, "error": {...}}).')(f)


# --- options shared by `labkit import` and `labkit analyze` --------------------------------------------------

def read_option(f: F) -> F:
    """--read NAME: the read of a multi-read file."""
    return click.option("--read", "read", default=None, metavar="NAME",
                        help="Multi-read files (e.g. two filters, a plate pasted twice): keep only this read (name, "
                             "number, or a unique part of the name).")(f)


def value_option(f: F) -> F:
    """--value COLUMN: the value column of a long table."""
    return click.option("--value", "value", default=None, metavar="COLUMN",
                        help="Long tables: the value column, when several numeric columns could be it (labkit never "
                             "guesses).")(f)


def plate_map_option(f: F) -> F:
    """--plate-map READOUT=LAYOUT (repeatable)."""
    return click.option("--plate-map", "plate_map", multiple=True, metavar="READOUT=LAYOUT",
                        help="Readout plate READOUT is layout plate LAYOUT (repeatable); FILE#READOUT names the plate "
                             "of one file when several files number their plates 1, 2 ... Default: by id; plates "
                             "numbered 1..n join the layout's plates by number when that is unambiguous. A READOUT "
                             "that is no plate of the readout is an error.")(f)


def parse_plate_map(items: tuple[str, ...] | list[str]) -> dict[str, str] | None:
    """READOUT=LAYOUT pairs -> {readout plate: layout plate} (None when none given); ReadoutError if malformed."""
    from labkit.errors import ReadoutError

    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ReadoutError(f"--plate-map wants READOUT_PLATE=LAYOUT_PLATE, got {item!r}", field="plate-map")
        if key.strip() in out and out[key.strip()] != value.strip():
            raise ReadoutError(f"--plate-map gives readout plate {key.strip()!r} twice ({out[key.strip()]!r} and "
                               f"{value.strip()!r})", field="plate-map")
        out[key.strip()] = value.strip()
    return out or None
