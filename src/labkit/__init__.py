"""labkit: from a plate layout to an IC50 table.

    import labkit
    exp = labkit.load("layouts/kinase_panel.yaml")
    protocol = exp.protocol("flex")          # source text + plan; .write(path)
    run = protocol.simulate()                # in-process Opentrons analysis; run.verify() knows the layout
    results = labkit.analyze(labkit.read("counts.txt"), exp)   # tables + .report(folder)

Names are imported on first use (module __getattr__), so `import labkit` and `labkit --help` stay instant.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it (imported lazily)
_LAZY: dict[str, str] = {
    "load": "labkit.api",
    "parse": "labkit.api",
    "generate": "labkit.api",
    "make_protocol": "labkit.api",
    "verify": "labkit.api",
    "read": "labkit.api",
    "analyze": "labkit.api",
    "Protocol": "labkit.api",
    "Run": "labkit.api",
    "Results": "labkit.api",
    "Experiment": "labkit.layout.experiment",
    "LabkitError": "labkit.errors",
    "LayoutError": "labkit.errors",
    "PlanError": "labkit.errors",
    "ReadoutError": "labkit.errors",
    "assays": "labkit.assays",
}

__all__ = ["Experiment", "LabkitError", "LayoutError", "PlanError", "Protocol", "ReadoutError", "Results", "Run",
           "__version__", "analyze", "assays", "generate", "load", "make_protocol", "parse", "read", "verify"]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from labkit import assays
    from labkit.api import Protocol, Results, Run, analyze, generate, load, make_protocol, parse, read, verify
    from labkit.errors import LabkitError, LayoutError, PlanError, ReadoutError
    from labkit.layout.experiment import Experiment


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'labkit' has no attribute {name!r}")
    mod = importlib.import_module(module)
    value = mod if module.endswith("." + name) else getattr(mod, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
