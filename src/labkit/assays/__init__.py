"""Assay kinds as plug-ins: a registry of `AssayKind` objects, one package per kind.

    from labkit import assays
    assays.kinds()                          # ['kinase_radiometric', 'cell_viability_ctg', 'dilution_plate']
    assays.get("cell_viability_ctg").normalization.low_role   # 'blank'

The built-in kinds are listed once, in BUILTINS; third-party packages add theirs through the entry-point group
`labkit.assays` (each entry point names an AssayKind instance or class). Kinds load on first use, so importing
labkit stays fast. See docs/plugins.md for writing a new kind.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from labkit.assays.base import AssayKind, Normalization, Potency, Signal
from labkit.errors import LabkitError

if TYPE_CHECKING:  # pragma: no cover
    from labkit.layout.experiment import ExperimentBase

# The one place the built-in kinds are named: assay name -> "module:attribute" of its AssayKind.
BUILTINS: dict[str, str] = {
    "kinase_radiometric": "labkit.assays.kinase_radiometric.kind:KIND",
    "cell_viability_ctg": "labkit.assays.cell_viability_ctg.kind:KIND",
    "dilution_plate": "labkit.assays.dilution_plate.kind:KIND",
    "kinase_adpglo": "labkit.assays.kinase_adpglo.kind:KIND",
}
ENTRY_POINT_GROUP = "labkit.assays"

_KINDS: dict[str, AssayKind] = {}
_loaded = False
_adapter: Any = None


def _resolve(target: str) -> AssayKind:
    module, _, attr = target.partition(":")
    obj = getattr(importlib.import_module(module), attr)
    kind: AssayKind = obj() if isinstance(obj, type) else obj
    return kind


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for target in BUILTINS.values():
        register(_resolve(target))
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        obj = ep.load()
        register(obj() if isinstance(obj, type) else obj)


def register(kind: AssayKind, *, replace: bool = False) -> AssayKind:
    """Add an assay kind to the registry (its layouts then validate, plan and analyze).

    Args:
        kind: an AssayKind instance whose `experiment` model has `assay: Literal[kind.name]`.
        replace: allow replacing a registered kind of the same name.

    Returns:
        The kind.

    Raises:
        ValueError: the name is taken (and replace is False) or the kind is malformed.
    """
    global _adapter
    if not isinstance(kind, AssayKind) or not kind.name:
        raise ValueError(f"{kind!r} is not an AssayKind with a name")
    field = kind.experiment.model_fields.get("assay")
    if field is None or getattr(field.annotation, "__args__", None) != (kind.name,):
        raise ValueError(f"{kind.name}: its experiment model must declare assay: Literal[{kind.name!r}]")
    if kind.name in _KINDS and not replace and _KINDS[kind.name] is not kind:
        raise ValueError(f"assay kind {kind.name!r} is already registered")
    _KINDS[kind.name] = kind
    _adapter = None
    return kind


def unregister(name: str) -> None:
    """Remove a registered kind (for tests and plug-in development); unknown names are ignored."""
    global _adapter
    _load()
    _KINDS.pop(name, None)
    _adapter = None


def get(name: str) -> AssayKind:
    """The registered assay kind called name.

    Raises:
        LabkitError: no such kind (the message lists the known ones).
    """
    _load()
    key = str(getattr(name, "value", name)).strip()
    try:
        return _KINDS[key]
    except KeyError:
        raise LabkitError(f"unknown assay kind {key!r}; expected one of {', '.join(_KINDS)}",
                          field="assay") from None


def kinds() -> list[str]:
    """Names of the registered assay kinds, built-ins first."""
    _load()
    return list(_KINDS)


def readout_species() -> tuple[str, ...]:
    """Ledger species that end an assay in any registered kind (stop solution, detection reagents …)."""
    _load()
    return tuple(dict.fromkeys(s for k in _KINDS.values() for s in k.readout_species))


def experiment_adapter() -> Any:
    """A pydantic TypeAdapter of the discriminated union (on `assay`) of every registered kind's layout model."""
    global _adapter
    _load()
    if _adapter is None:
        from typing import Annotated, Union

        from pydantic import Field, TypeAdapter

        models = tuple(k.experiment for k in _KINDS.values())
        if len(models) == 1:
            _adapter = TypeAdapter(models[0])
        else:
            union: Any = Union[models]
            _adapter = TypeAdapter(Annotated[union, Field(discriminator="assay")])
    return _adapter


def validate_experiment(data: Any) -> ExperimentBase:
    """Validate layout data (a mapping) into the Experiment model of its assay kind (pydantic ValidationError)."""
    exp: ExperimentBase = experiment_adapter().validate_python(data)
    return exp


__all__ = ["AssayKind", "BUILTINS", "Normalization", "Potency", "Signal", "experiment_adapter", "get", "kinds", "readout_species",
           "register", "unregister", "validate_experiment"]
