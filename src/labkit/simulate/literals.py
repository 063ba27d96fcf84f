"""Read module-level literals (LIQUIDS, STEPS, …) out of a generated protocol file without running it."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

from labkit.errors import SimulationError

_AST_LOCK = threading.Lock()


def read_literal(path: str | Path, name: str) -> object | None:
    """The value of a module-level literal assignment `NAME = {...}` in a Python file (None if absent)."""
    p = Path(path)
    try:
        with _AST_LOCK:  # CPython < 3.11.8 can fail ast.parse in concurrent threads (python/cpython#106905)
            tree = ast.parse(p.read_text(encoding="utf-8"), filename=str(p))
    except SyntaxError as exc:
        raise SimulationError(f"not valid Python: {exc.msg}", file=p, line=exc.lineno) from None
    except UnicodeDecodeError as exc:
        raise SimulationError(f"not a Python protocol (not UTF-8 text: {exc.reason} at byte {exc.start})",
                              file=p) from None
    except ValueError as exc:  # e.g. NUL bytes
        raise SimulationError(f"not a Python protocol ({exc})", file=p) from None
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            try:
                return ast.literal_eval(value)
            except ValueError:
                raise SimulationError(f"{name} must be a literal (dicts, strings and numbers only)", file=p,
                                      line=node.lineno, field=name) from None
    return None


def read_liquids(path: str | Path) -> dict[str, dict]:
    """The protocol's LIQUIDS literal: display name -> {description, color, composition}; {} if absent."""
    value = read_literal(path, "LIQUIDS")
    if value is None:
        return {}
    problems = []
    if not isinstance(value, dict):
        raise SimulationError("LIQUIDS must be a dict of display name -> {composition: {...}}", file=path,
                              field="LIQUIDS")
    for name, spec in value.items():
        comp = spec.get("composition") if isinstance(spec, dict) else None
        if not isinstance(comp, dict) or not all(
                isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
                for k, v in comp.items()):
            problems.append(f"LIQUIDS[{name!r}].composition: expected a dict of species -> number >= 0")
    if problems:
        raise SimulationError("LIQUIDS is malformed", file=path, field="LIQUIDS", problems=problems)
    return value
