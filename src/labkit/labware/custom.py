"""labkit's custom Opentrons labware definitions (schema v2), shipped as JSON and embedded in protocols."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from labkit.labware.specs import FILTER_PLATE, WHITE_384


def build_filter_plate() -> dict:
    """The Millipore MultiScreen-PH (P81 phosphocellulose) 96-well filter plate as an Opentrons v2 definition."""
    rows, cols = "ABCDEFGH", range(1, 13)
    depth, z_top = 10.2, 14.6
    wells = {}
    for c in cols:
        for i, r in enumerate(rows):
            wells[f"{r}{c}"] = {"depth": depth, "shape": "circular", "diameter": 6.4, "totalLiquidVolume": 300,
                                "x": round(14.38 + 9 * (c - 1), 2), "y": round(74.24 - 9 * i, 2),
                                "z": round(z_top - depth, 2)}
    order = [[f"{r}{c}" for r in rows] for c in cols]
    return {
        "ordering": order,
        "brand": {"brand": "Millipore", "brandId": ["MSPHN6B10", "MSPHN6B50"]},
        "metadata": {"displayName": "MultiScreen-PH 96 P81 Phosphocellulose Filter Plate 300 µL",
                     "displayCategory": "wellPlate", "displayVolumeUnits": "µL", "tags": []},
        "dimensions": {"xDimension": 127.76, "yDimension": 85.48, "zDimension": z_top},
        "wells": wells,
        "groups": [{"metadata": {"wellBottomShape": "flat"}, "wells": [w for col in order for w in col]}],
        "parameters": {"format": "irregular", "quirks": [], "isTiprack": False, "isMagneticModuleCompatible": False,
                       "loadName": FILTER_PLATE},
        "namespace": "labkit",
        "version": 1,
        "schemaVersion": 2,
        "cornerOffsetFromSlot": {"x": 0, "y": 0, "z": 0},
    }


def build_white_384() -> dict:
    """Corning 3570 (384-well solid white, flat bottom, TC-treated; for luminescence, Promega TB288) as an Opentrons v2
    definition: the geometry of Opentrons' corning_384_wellplate_112ul_flat (version 2), renamed."""
    from opentrons_shared_data.labware import load_definition

    d = json.loads(json.dumps(load_definition("corning_384_wellplate_112ul_flat", 2)))
    d["brand"] = {"brand": "Corning", "brandId": ["3570"]}
    d["metadata"]["displayName"] = "Corning 384 Well Plate 112 µL Flat, solid white, TC-treated (3570)"
    d["parameters"]["loadName"] = WHITE_384
    d["namespace"], d["version"] = "labkit", 1
    return d


@lru_cache(maxsize=None)
def _load(load_name: str) -> str:
    # one name per joinpath: Python 3.10's Traversable.joinpath takes a single child
    folder = resources.files("labkit.labware").joinpath("definitions")
    return folder.joinpath(f"{load_name}.json").read_text(encoding="utf-8")


def definition(load_name: str) -> dict:
    """A custom labware definition by load name (a fresh copy)."""
    return json.loads(_load(load_name))


def filter_plate_definition() -> dict:
    """The phosphocellulose filter plate definition."""
    return definition(FILTER_PLATE)


def write_definitions() -> None:  # pragma: no cover - maintenance helper
    """Regenerate the JSON files from the builders above."""
    for name, build in ((FILTER_PLATE, build_filter_plate), (WHITE_384, build_white_384)):
        path = resources.files("labkit.labware").joinpath("definitions").joinpath(f"{name}.json")
        with open(str(path), "w", encoding="utf-8") as fh:
            json.dump(build(), fh, indent=2, ensure_ascii=False)
            fh.write("\n")
