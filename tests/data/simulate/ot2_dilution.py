"""Hand-written OT-2 protocol for labkit's ledger tests (follows the emitter contract).

Row A of plate P1: 2-fold serial dilution of compound X (10 uM, 1 % DMSO) into buffer with 1 % DMSO:
  A1 200 uL X -> 100 uL to A2 (100 uL buffer) -> 100 uL to A3 -> 100 uL to A4; one tip for the series.
  Expected (by hand): A1 100 uL 10 uM, A2 100 uL 5 uM, A3 100 uL 2.5 uM, A4 200 uL 1.25 uM; DMSO 1 % everywhere.
A5: vehicle, 100 uL buffer. Column 6: 8-channel p20 adds 10 uL enzyme mix from reservoir A3 (8 x 10 uL leave it).
"""

from opentrons import protocol_api

metadata = {"protocolName": "labkit test: OT-2 2-fold dilution", "author": "labkit tests"}
requirements = {"robotType": "OT-2", "apiLevel": "2.20"}

LIQUIDS = {
    "Compound X 10 uM": {"description": "X in buffer, 1 % DMSO", "color": "#d62728",
                         "composition": {"compound:X": 1e-05, "solvent:DMSO": 0.01, "buffer": 1.0}},
    "Buffer 1% DMSO": {"description": "assay buffer with 1 % DMSO", "color": "#1f77b4",
                       "composition": {"buffer": 1.0, "solvent:DMSO": 0.01}},
    "Enzyme mix": {"description": "TRKA + substrate", "color": "#2ca02c",
                   "composition": {"enzyme:TRKA": 2.0, "substrate": 1.0, "buffer": 1.0}},
}


def run(ctx: protocol_api.ProtocolContext):
    tips300 = ctx.load_labware("opentrons_96_tiprack_300ul", 1)
    tips20 = ctx.load_labware("opentrons_96_tiprack_20ul", 4)
    plate = ctx.load_labware("corning_96_wellplate_360ul_flat", 2, label="P1")
    res = ctx.load_labware("nest_12_reservoir_15ml", 3, label="Reservoir")
    p300 = ctx.load_instrument("p300_single_gen2", "right", tip_racks=[tips300])
    m20 = ctx.load_instrument("p20_multi_gen2", "left", tip_racks=[tips20])
    liquid = {name: ctx.define_liquid(name, description=spec["description"], display_color=spec["color"])
              for name, spec in LIQUIDS.items()}
    plate["A1"].load_liquid(liquid["Compound X 10 uM"], 200)
    res["A1"].load_liquid(liquid["Buffer 1% DMSO"], 10000)
    res["A3"].load_liquid(liquid["Enzyme mix"], 1000)

    ctx.comment("Diluent: 100 uL buffer into A2-A5, one tip, dispensed from the well top (no contact)")
    p300.pick_up_tip()
    for well in ("A2", "A3", "A4", "A5"):
        p300.aspirate(100, res["A1"])
        p300.dispense(100, plate[well].top())
    p300.drop_tip()

    ctx.comment("2-fold series A1 -> A4, one tip for the series")
    p300.pick_up_tip()
    for src, dst in (("A1", "A2"), ("A2", "A3"), ("A3", "A4")):
        p300.aspirate(100, plate[src])
        p300.dispense(100, plate[dst])
        p300.mix(3, 50, plate[dst])
    p300.drop_tip()

    ctx.comment("Enzyme mix to column 6 with the 8-channel")
    m20.pick_up_tip()
    m20.aspirate(10, res["A3"])
    m20.dispense(10, plate["A6"])
    m20.drop_tip()
    ctx.pause("Seal the plate")
    ctx.delay(seconds=30)
