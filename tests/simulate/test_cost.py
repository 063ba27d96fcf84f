"""labkit.simulate.cost: counts and the deck-time model on real analyses and on hand-made command lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.simulate import cost as C
from labkit.simulate.opentrons_run import analyze_protocol
from labkit.simulate.cost import estimate, format_duration

DATA = Path(__file__).parents[1] / "data" / "simulate"


@pytest.fixture(scope="module")
def analyses():
    return {n: analyze_protocol(DATA / f"{n}.py", in_process=True) for n in ("ot2_dilution", "flex_kinase_mini")}


def test_counts_ot2(analyses):
    c = estimate(analyses["ot2_dilution"])
    assert (c.tips_used, c.aspirates, c.dispenses, c.mix_cycles) == (10, 17, 17, 9)
    assert c.commands == len(analyses["ot2_dilution"]["commands"])
    assert c.pauses == ["Seal the plate"] and c.delays_s == 30.0
    assert c.volume_uL == pytest.approx(4 * 100 + 3 * 100 + 9 * 50 + 8 * 10)
    # liquid time by hand: p300 at 92.86 µL/s moves 1150 µL in and out, p20 multi 10 µL at 7.6 µL/s
    liquid = 2 * 1150 / 92.86 + 2 * 10 / 7.6 + 17 * C.ASPIRATE_S + 17 * C.DISPENSE_S
    assert c.breakdown["liquid"] == pytest.approx(liquid, abs=1e-3)
    assert c.breakdown["tips"] == pytest.approx(3 * C.PICK_UP_TIP_S + 3 * C.DROP_TIP_S)
    assert c.time_s - c.time_without_delays_s == pytest.approx(30.0)
    assert c.time_s == pytest.approx(sum(c.breakdown.values()), abs=1e-6)


def test_counts_flex_modules_and_channels(analyses):
    c = estimate(analyses["flex_kinase_mini"])
    assert c.tips_used == 8 * 23 + 1  # 8-channel pick-ups count 8 tips, the SINGLE layout one
    assert c.delays_s == 600 + 2400
    assert c.breakdown["modules"] == pytest.approx((30 - C.AMBIENT_C) / C.TEMP_RAMP_C_PER_S)
    assert c.pauses == ["Transfer to the filter plate, wash, dry, add scintillant and count"]
    assert c.mix_cycles == 2 * 3 + 4 * 3
    assert c.by_type["configureNozzleLayout"] == 1


def _cmd(kind, params=None, pos=None):
    c = {"commandType": kind, "status": "succeeded", "params": params or {}, "result": {}}
    if pos is not None:
        c["result"]["position"] = {"x": pos[0], "y": pos[1], "z": 10.0}
    return c


def test_move_model_on_hand_made_commands():
    pip = {"pipetteId": "p"}
    a = {"commands": [
        _cmd("loadPipette", {"pipetteName": "p300_single_gen2"}) | {"result": {"pipetteId": "p"}},
        _cmd("pickUpTip", pip | {"labwareId": "tips", "wellName": "A1"}, (0, 0)),
        _cmd("aspirate", pip | {"labwareId": "plate", "wellName": "A1", "volume": 50, "flowRate": 25}, (300, 400)),
        _cmd("dispense", pip | {"labwareId": "plate", "wellName": "A1", "volume": 50, "flowRate": 50}, (300, 400)),
        _cmd("dispense", pip | {"labwareId": "plate", "wellName": "A2", "volume": 0, "flowRate": 50}, (309, 400)),
        _cmd("waitForDuration", {"seconds": 60}),
        _cmd("waitForResume", {"message": "add the plate"}),
    ]}
    c = estimate(a)
    assert c.moves == 2 and c.move_distance_mm == pytest.approx(509.0)
    assert c.breakdown["moves"] == pytest.approx(C.MOVE_BETWEEN_S + 500 / C.GANTRY_MM_S
                                                 + C.MOVE_WITHIN_S + 9 / C.GANTRY_MM_S)
    assert c.breakdown["liquid"] == pytest.approx(C.ASPIRATE_S + 2 + 2 * C.DISPENSE_S + 1)
    assert c.mix_cycles == 1 and c.pauses == ["add the plate"]
    assert c.time_s == pytest.approx(c.time_without_delays_s + 60)


def test_format_duration():
    assert format_duration(42.4) == "42 s"
    assert format_duration(725) == "12 min 05 s"
    assert format_duration(3720) == "1 h 02 min"
