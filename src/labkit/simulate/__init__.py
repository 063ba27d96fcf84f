"""Simulation and verification: Opentrons analysis, per-well ledger, cost model, layout verification.

    sim = simulate("protocols/kinase_flex.py")          # analysis + ledger + cost, never raises on engine errors
    sim.ok, sim.errors, sim.cost.tips_used, sim.ledger.well("KIN-1", "A1").compounds
    report = verify_experiment(sim.ledger, experiment, sim.timeline)   # core checks + the assay's recipe
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from labkit.simulate.opentrons_run import DEFAULT_TIMEOUT, EngineError, analyze_protocol, engine_errors, simulate_protocol
from labkit.simulate.cost import Cost, Timeline, estimate, estimate_with_timeline, timeline
from labkit.simulate.ledger import Ledger, WellState, read_hot_waste, read_liquids, replay
from labkit.simulate.verify import Failure, VerifyReport, verify, verify_experiment

__all__ = ["Cost", "EngineError", "Failure", "Ledger", "Simulation", "VerifyReport", "WellState",
           "analyze_protocol", "engine_errors", "estimate", "read_liquids", "replay", "simulate",
           "simulate_protocol", "Timeline", "timeline", "verify", "verify_experiment"]


@dataclass
class Simulation:
    """One protocol run through the Opentrons analysis, replayed and costed."""

    path: Path
    analysis: dict
    errors: list[EngineError]
    liquids: dict
    ledger: Ledger
    cost: Cost
    timeline: Timeline

    @property
    def ok(self) -> bool:
        """The engine accepted it and the ledger found no problem."""
        return not self.errors and self.analysis.get("result", "ok") == "ok" and self.ledger.ok

    @property
    def api_level(self) -> str:
        v = (self.analysis.get("config") or {}).get("apiVersion") or []
        return ".".join(str(x) for x in v)

    @property
    def robot(self) -> str:
        rt = str(self.analysis.get("robotType", ""))
        return {"OT-2 Standard": "OT-2", "OT-3 Standard": "Flex"}.get(rt, rt)


def simulate(path: str | Path, *, in_process: bool = False, rtp_values: dict | None = None,
             timeout: float = DEFAULT_TIMEOUT) -> Simulation:
    """Analyze a protocol file (engine errors kept, not raised), replay it into a ledger and estimate its cost."""
    p = Path(path)
    liquids = read_liquids(p)
    analysis = analyze_protocol(p, check=False, in_process=in_process, rtp_values=rtp_values, timeout=timeout)
    cost, clock = estimate_with_timeline(analysis)
    return Simulation(p, analysis, engine_errors(analysis), liquids, replay(analysis, liquids, read_hot_waste(p)), cost,
                      clock)
