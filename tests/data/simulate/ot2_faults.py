"""Hand-written OT-2 protocol that the Opentrons engine accepts but labkit's ledger must flag.

- overflow: 3 x 150 uL buffer into P1 B1 (corning 360 uL well) -> 450 uL;
- underflow: aspirate 50 uL from P1 C1, which was never filled;
- contamination: one tip aspirates compound A from D1 and, unchanged, aspirates compound B from D2, then
  dispenses into D3 (D2's well is touched by a tip carrying A; D3 receives A and B from that tip);
- hot tip: a tip takes 40 uL hot ATP from E1 and dispenses 20 uL into E2 and 20 uL into E3 (both below the
  surface), then is returned to its rack instead of the trash.
"""
from opentrons import protocol_api

metadata = {"protocolName": "labkit test: faults the engine accepts"}
requirements = {"robotType": "OT-2", "apiLevel": "2.20"}

LIQUIDS = {
    "Buffer": {"description": "buffer", "color": "#1f77b4", "composition": {"buffer": 1.0}},
    "A 1 uM": {"description": "compound A", "color": "#d62728",
               "composition": {"compound:A": 1e-06, "solvent:DMSO": 0.01}},
    "B 1 uM": {"description": "compound B", "color": "#9467bd",
               "composition": {"compound:B": 1e-06, "solvent:DMSO": 0.01}},
    "HOT ATP": {"description": "[g-33P]ATP", "color": "#ff7f0e", "composition": {"atp": 1.0, "atp33": 1.0}},
}


def run(ctx: protocol_api.ProtocolContext):
    tips = ctx.load_labware("opentrons_96_tiprack_300ul", 1)
    plate = ctx.load_labware("corning_96_wellplate_360ul_flat", 2, label="P1")
    res = ctx.load_labware("nest_12_reservoir_15ml", 3, label="Reservoir")
    p300 = ctx.load_instrument("p300_single_gen2", "right", tip_racks=[tips])
    liquid = {name: ctx.define_liquid(name, description=spec["description"], display_color=spec["color"])
              for name, spec in LIQUIDS.items()}
    res["A1"].load_liquid(liquid["Buffer"], 10000)
    plate["D1"].load_liquid(liquid["A 1 uM"], 100)
    plate["D2"].load_liquid(liquid["B 1 uM"], 100)
    plate["E1"].load_liquid(liquid["HOT ATP"], 100)

    p300.pick_up_tip()
    for _ in range(3):
        p300.aspirate(150, res["A1"])
        p300.dispense(150, plate["B1"].top())
    p300.aspirate(50, plate["C1"])
    p300.dispense(50, plate["C2"])
    p300.drop_tip()

    p300.pick_up_tip()
    p300.aspirate(20, plate["D1"])
    p300.aspirate(20, plate["D2"])
    p300.dispense(40, plate["D3"])
    p300.drop_tip()

    p300.pick_up_tip()
    p300.aspirate(40, plate["E1"])
    p300.dispense(20, plate["E2"])
    p300.dispense(20, plate["E3"])
    p300.return_tip()
