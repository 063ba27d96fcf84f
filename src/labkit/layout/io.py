"""Experiment files: YAML/JSON in, YAML out, JSON Schema; errors name the file, line and field path."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from labkit.errors import LayoutError
from labkit.layout.experiment import ExperimentBase as Experiment

_MESSAGES = {
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be greater than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "missing": "is required",
    "too_short": "must have at least {min_length} item(s)",
    "too_long": "must have at most {max_length} item(s)",
    "string_too_short": "must not be empty",
    "string_too_long": "must be at most {max_length} characters",
}


def _path(loc: tuple) -> str:
    """('<assay kind>', 'compounds', 0, 'dilution', 'points') -> 'compounds[0].dilution.points' (the assay
    kind that picked the model, and union branch names, dropped)."""
    from labkit.assays import kinds

    out = ""
    if loc and loc[0] in kinds():
        loc = loc[1:]
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "[" in str(part) or str(part).startswith("function-"):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def _message(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind in _MESSAGES:
        try:
            return _MESSAGES[kind].format(**ctx)
        except KeyError:
            pass
    if kind == "extra_forbidden":
        return "unknown field (check the spelling; `labkit layout schema` lists the fields)"
    if kind == "union_tag_invalid":
        from labkit.assays import kinds

        return f"expected one of {', '.join(repr(k) for k in kinds())}, got {ctx.get('tag', err.get('input'))!r}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected', 'one of the allowed values')}, got {err.get('input')!r}"
    msg = err.get("msg", "invalid")
    return msg.removeprefix("Value error, ")


def problems_from(exc: ValidationError) -> list[tuple[str, str]]:
    """Flatten a pydantic error into (field path, message), splitting our multi-line cross-field messages."""
    out: list[tuple[str, str]] = []
    seen = set()
    for err in exc.errors(include_url=False):
        path, msg = _path(tuple(err.get("loc", ()))), _message(err)
        if err.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            path = "assay"  # the discriminator: which assay kind the file is
            if err.get("type") == "union_tag_not_found":
                msg = _MESSAGES["missing"]
        if not path and ": " in msg:  # cross-field checks carry their own paths, one per line
            for line in msg.splitlines():
                p, _, m = line.partition(": ")
                out.append((p, m))
            continue
        if (path, msg) not in seen:  # union branches repeat the same complaint
            seen.add((path, msg))
            out.append((path or "(top level)", msg))
    return out


def _line_of(node: Any, path: str) -> int | None:
    """1-based line of a field path in a composed YAML node tree (best effort)."""
    import re

    parts = re.findall(r"[^.\[\]]+|\[\d+\]", path)
    line = None
    for part in parts:
        if node is None:
            break
        line = node.start_mark.line + 1
        if part.startswith("["):
            idx = int(part[1:-1])
            node = node.value[idx] if isinstance(node, yaml.SequenceNode) and idx < len(node.value) else None
        elif isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if k.value == part:
                    nxt, line = v, k.start_mark.line + 1
                    break
            node = nxt
        else:
            node = None
    if node is not None:
        line = node.start_mark.line + 1
    return line


def parse_experiment(text: str, source: str = "<string>") -> Experiment:
    """Validate an experiment from YAML/JSON text; LayoutError lists every problem with its line and field."""
    from labkit import yaml_safe

    try:
        data = yaml_safe.load(text)
    except yaml_safe.DuplicateKeyError as exc:
        mark = exc.problem_mark
        raise LayoutError(str(exc.problem), file=source, line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise LayoutError(f"not valid YAML: {getattr(exc, 'problem', exc)}", file=source,
                          line=mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise LayoutError("expected a mapping with name, assay, compounds, plates … at the top level",
                          file=source)
    try:
        from labkit.assays import validate_experiment

        return validate_experiment(data)
    except ValidationError as exc:
        try:
            root = yaml_safe.compose(text)
        except yaml.YAMLError:  # pragma: no cover - it parsed above
            root = None
        problems = []
        for path, msg in problems_from(exc):
            line = _line_of(root, path) if root is not None else None
            where = f"line {line}: " if line else ""
            problems.append(f"{where}{path}: {msg}")
        n = len(problems)
        raise LayoutError(f"{n} problem{'s' if n != 1 else ''} in the layout", file=source,
                          problems=problems) from None


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file (.yaml/.yml/.json)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
        text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as read_text does
    except FileNotFoundError:
        raise LayoutError("no such file", file=p) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LayoutError(f"cannot read the file: {exc}", file=p) from None
    exp = parse_experiment(text, str(p))
    exp._source, exp._sha256 = str(p), hashlib.sha256(raw).hexdigest()
    return exp


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes (recorded in generated protocols and reports)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def to_data(exp: Experiment) -> dict:
    """The experiment as plain data (units written out, defaults omitted)."""
    data = exp.model_dump(mode="json", exclude_defaults=True)
    return {k: v for k, v in data.items() if v != {}}


def dump_yaml(exp: Experiment) -> str:
    """The experiment as YAML text; parse_experiment(dump_yaml(e)) == e."""
    from labkit import yaml_safe

    return yaml_safe.dump(to_data(exp))


def json_schema() -> dict:
    """JSON Schema of the experiment file format (for editor autocompletion)."""
    from labkit.assays import experiment_adapter

    schema = experiment_adapter().json_schema(mode="validation")
    # one branch per assay kind (oneOf, picked by `assay`); the top level also lists every field any kind takes, so
    # an editor completes field names before the file names its assay
    branches = [schema["$defs"][ref["$ref"].rsplit("/", 1)[-1]] for ref in schema.get("oneOf", [])] or [schema]
    props: dict[str, Any] = {}
    for branch in branches:
        for key, value in branch.get("properties", {}).items():
            props.setdefault(key, value)
    if "assay" in props:
        props["assay"] = {"title": "Assay", "description": "the assay kind (labkit.assays)",
                          "enum": [b["properties"]["assay"].get("const") for b in branches]}
    required = [k for k in branches[0].get("required", []) if all(k in b.get("required", []) for b in branches)]
    schema = {"type": "object", "properties": props, "required": required, **schema}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "labkit experiment"
    return schema


def schema_text() -> str:
    """The JSON Schema, pretty-printed."""
    return json.dumps(json_schema(), indent=2, sort_keys=True)
