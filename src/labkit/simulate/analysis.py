"""Run the real Opentrons analysis (and the legacy simulator's runlog) on a protocol file.

`analyze_protocol` runs `python -m opentrons.cli analyze --json-output F --check PATH` with this interpreter in a
subprocess (isolated state, a timeout, nothing cached on disk: the JSON goes to a temporary directory that is
removed), or in-process with `in_process=True` (about 10x faster after the first call: the ~2 s opentrons import
is paid once; uses opentrons' private `opentrons.cli.analyze._analyze`, falling back to the subprocess if that
moves).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from labkit.errors import SimulationError, SimulationTimeout

DEFAULT_TIMEOUT = 300.0  # seconds; the largest seed protocol (kinase_panel_ot2.py) analyses in about 20 s

_LINE = re.compile(r"\[line (\d+)\]|line (\d+)\)")


@dataclass(frozen=True)
class EngineError:
    """One error the Opentrons engine reported."""

    message: str
    error_type: str = ""
    command_index: int | None = None  # index in analysis["commands"] of the failed command
    command_type: str = ""
    line: int | None = None  # line of the protocol file, when the engine says

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.command_index is not None:
            where.append(f"command {self.command_index} ({self.command_type})")
        return (", ".join(where) + ": " if where else "") + self.message


def _line_of(text: str) -> int | None:
    m = _LINE.search(text or "")
    return int(m.group(1) or m.group(2)) if m else None


def _leaf_detail(err: dict) -> str:
    """The innermost error's detail (the wrappers repeat it with noise)."""
    wrapped = err.get("wrappedErrors") or []
    return _leaf_detail(wrapped[-1]) if wrapped else str(err.get("detail", ""))


def _error_ids(err: dict) -> set[str]:
    ids = {str(err.get("id", ""))}
    for w in err.get("wrappedErrors") or []:
        ids |= _error_ids(w)
    return ids


def engine_errors(analysis: dict) -> list[EngineError]:
    """The engine's errors of an analysis: message, failed command index and type, protocol line."""
    failed = {str((c.get("error") or {}).get("id")): (i, c.get("commandType", ""))
              for i, c in enumerate(analysis.get("commands", [])) if c.get("status") == "failed"}
    out = []
    for err in analysis.get("errors", []):
        detail = str(err.get("detail", ""))
        leaf = _leaf_detail(err)
        msg = detail if leaf in detail else f"{detail}: {leaf}"
        hit = next((failed[i] for i in sorted(_error_ids(err)) if i in failed), (None, ""))
        out.append(EngineError(msg, str(err.get("errorType", "")), hit[0], hit[1], _line_of(detail)))
    return out


def check_analysis(analysis: dict, path: str | Path | None = None) -> None:
    """Raise SimulationError listing the engine's errors if the analysis did not pass."""
    errors = engine_errors(analysis)
    if errors or analysis.get("result") not in (None, "ok"):
        lines = [e.line for e in errors if e.line is not None]
        raise SimulationError(
            f"the Opentrons analysis failed ({analysis.get('result', 'not-ok')}, {len(errors)} error(s))",
            file=path, line=lines[0] if lines else None, problems=[str(e) for e in errors])


def _run_subprocess(path: Path, timeout: float, rtp_values: dict | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="labkit-analysis-") as tmp:
        out = Path(tmp) / "analysis.json"
        cmd = [sys.executable, "-m", "opentrons.cli", "analyze", "--json-output", str(out), "--check",
               "--log-level", "ERROR"]
        if rtp_values:
            cmd += ["--rtp-values", json.dumps(rtp_values, sort_keys=True)]
        cmd.append(str(path.resolve()))
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=tmp)
        except subprocess.TimeoutExpired:  # subprocess.run has killed the analysis
            raise _timeout(path, timeout) from None
        if out.exists() and out.stat().st_size:
            return json.loads(out.read_text(encoding="utf-8"))
    # no JSON: the protocol could not even be loaded (syntax error, missing apiLevel, ...)
    err_lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("Error:")]
    msg = (err_lines[-1].removeprefix("Error:").strip() if err_lines
           else (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1])
    raise SimulationError(f"Opentrons could not load the protocol: {msg}", file=path, line=_line_of(msg))


def _timeout(path: Path, timeout: float) -> SimulationTimeout:
    return SimulationTimeout(f"the Opentrons analysis did not finish within {timeout:g} s and was stopped; the "
                             "protocol may wait or loop forever (time.sleep, while True); if it is only slow, "
                             "give a longer --timeout", file=path)


@contextlib.contextmanager
def _alarm(path: Path, timeout: float | None):
    """Interrupt the block after `timeout` seconds (SIGALRM; only in the main thread on Unix, else no limit)."""
    import signal
    import threading

    if not timeout or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    class _Expired(BaseException):  # BaseException: a protocol's `except Exception` cannot swallow it
        pass

    def fire(_sig, _frame):
        raise _Expired()

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        yield
    except _Expired:
        raise _timeout(path, timeout) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _in_process_analyzer():
    """opentrons' private analyze coroutine and output type, or None if this opentrons moved them."""
    import importlib

    try:
        oa = importlib.import_module("opentrons.cli.analyze")  # the module (the package shadows it)
        return oa._analyze, oa._Output
    except (ImportError, AttributeError):
        return None


def _run_in_process(path: Path, rtp_values: dict | None, timeout: float | None = None) -> dict | None:
    import anyio
    import click

    found = _in_process_analyzer()
    if found is None:
        return None
    run_analysis, output = found
    buf = io.BytesIO()
    try:
        # a protocol's print() must not corrupt our stdout; opentrons' config chatter is not for the user
        with _alarm(path, timeout), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            anyio.run(run_analysis, [path], json.dumps(rtp_values or {}), "{}", [output(to_file=buf, kind="json")],
                      False, False, False)
    except click.ClickException as exc:
        msg = exc.format_message()
        raise SimulationError(f"Opentrons could not load the protocol: {msg}", file=path,
                              line=_line_of(msg)) from None
    return json.loads(buf.getvalue().decode("utf-8"))


def analyze_protocol(path: str | Path, *, check: bool = True, in_process: bool = False,
                     timeout: float = DEFAULT_TIMEOUT, rtp_values: dict | None = None) -> dict:
    """Run the Opentrons analysis on a protocol file and return its JSON (raise SimulationError if it fails).

    The analysis executes the protocol's Python. After `timeout` seconds it is stopped (the subprocess is
    killed; in-process, SIGALRM interrupts the wait when called from the main thread, but the protocol's own
    thread cannot be stopped, so `labkit simulate --in-process` ends the process) and SimulationTimeout raised.
    """
    p = Path(path)
    if not p.is_file():
        raise SimulationError("no such protocol file", file=p)
    analysis = None
    if in_process:
        analysis = _run_in_process(p, rtp_values, timeout)  # None if opentrons moved its private API: use the CLI
    if analysis is None:
        analysis = _run_subprocess(p, timeout, rtp_values)
    if check:
        check_analysis(analysis, p)
    return analysis


def simulate_protocol(path: str | Path) -> list[str]:
    """Run `opentrons.simulate` on a protocol file and return its runlog, one line per step (nested indented)."""
    from opentrons import simulate as ot_simulate

    p = Path(path)
    if not p.is_file():
        raise SimulationError("no such protocol file", file=p)
    try:
        with p.open("rb") as fh:
            runlog, _bundle = ot_simulate.simulate(fh, file_name=p.name)
    except SyntaxError as exc:
        raise SimulationError(f"not valid Python: {exc.msg}", file=p, line=exc.lineno) from None
    except Exception as exc:  # the simulator raises whatever the protocol raised
        text = str(exc)
        raise SimulationError(f"opentrons.simulate failed: {type(exc).__name__}: {text}", file=p,
                              line=_line_of(text)) from None
    return ot_simulate.format_runlog(runlog).splitlines()
