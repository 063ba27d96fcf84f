"""Hand-written Flex protocol for labkit's ledger/verify tests: a miniature radiometric kinase plate.

SRC (96, DMSO): column 1 = X 100 uM in DMSO (60 uL), columns 2-4 = 40 uL DMSO; 8-channel 3-fold series
  col 1 -> 2 -> 3 (20 uL into 40 uL, one tip set); column 4 stays DMSO (vehicle).
INT (96): 95 uL buffer per well (columns 1-4, one tip set, non-contact) + 5 uL SRC (fresh tips, mix): 5 % DMSO.
KIN-T (384, temperature module 30 C): 5 uL INT column k -> column k (8-channel at A{k}: rows A, C, ..., O);
  column 5 gets INT column 4 (vehicle) = the no-enzyme control. Enzyme mix 10 uL (cols 1-4) / no-enzyme mix
  (col 5) from the top, one tip set each; hot ATP 10 uL per column with fresh tips from the top, straight to the
  trash; 25 uL reaction, 1 % DMSO; X final = 1 uM, 333.3 nM, 111.1 nM. Stop 10 uL per column (fresh tips, top).
Finally a SINGLE-nozzle (H1) step moves 20 uL buffer from KIN-T P23 (50 uL loaded) into P24.
"""
from opentrons import protocol_api
from opentrons.protocol_api import SINGLE

metadata = {"protocolName": "labkit test: Flex mini kinase", "author": "labkit tests"}
requirements = {"robotType": "Flex", "apiLevel": "2.22"}

LIQUIDS = {
    "X 100 uM in DMSO": {"description": "compound X top of the series", "color": "#d62728",
                         "composition": {"compound:X": 1e-04, "solvent:DMSO": 1.0}},
    "DMSO": {"description": "neat DMSO", "color": "#7f7f7f", "composition": {"solvent:DMSO": 1.0}},
    "Kinase buffer": {"description": "assay buffer", "color": "#1f77b4", "composition": {"buffer": 1.0}},
    "TRKA + substrate": {"description": "2.5x enzyme mix", "color": "#2ca02c",
                         "composition": {"enzyme:TRKA": 2.5, "substrate": 2.5, "buffer": 1.0}},
    "Substrate only": {"description": "no-enzyme mix", "color": "#98df8a",
                       "composition": {"substrate": 2.5, "buffer": 1.0}},
    "HOT [g-33P]ATP mix": {"description": "RADIOACTIVE 33P ATP", "color": "#ff7f0e",
                           "composition": {"atp": 2.5, "atp33": 2.5, "buffer": 1.0}},
    "Stop (3% H3PO4)": {"description": "phosphoric acid", "color": "#9467bd", "composition": {"stop": 1.0}},
}


def run(ctx: protocol_api.ProtocolContext):
    ctx.load_trash_bin("A3")
    tips_a = ctx.load_labware("opentrons_flex_96_tiprack_50ul", "A1")
    tips_b = ctx.load_labware("opentrons_flex_96_tiprack_50ul", "D2")
    tips_single = ctx.load_labware("opentrons_flex_96_tiprack_50ul", "B2")
    res = ctx.load_labware("nest_12_reservoir_15ml", "B1", label="Reagents")
    src = ctx.load_labware("nest_96_wellplate_200ul_flat", "B3", label="SRC")
    inter = ctx.load_labware("nest_96_wellplate_200ul_flat", "C2", label="INT")
    temp = ctx.load_module("temperature module gen2", "D1")
    assay = temp.load_labware("corning_384_wellplate_112ul_flat", label="KIN-T")
    m50 = ctx.load_instrument("flex_8channel_50", "left", tip_racks=[tips_a, tips_b])
    liquid = {name: ctx.define_liquid(name, description=spec["description"], display_color=spec["color"])
              for name, spec in LIQUIDS.items()}
    for w in src.columns()[0]:
        w.load_liquid(liquid["X 100 uM in DMSO"], 60)
    for col in src.columns()[1:4]:
        for w in col:
            w.load_liquid(liquid["DMSO"], 40)
    res["A1"].load_liquid(liquid["Kinase buffer"], 5000)
    res["A2"].load_liquid(liquid["TRKA + substrate"], 1000)
    res["A3"].load_liquid(liquid["Substrate only"], 1000)
    res["A4"].load_liquid(liquid["HOT [g-33P]ATP mix"], 1000)
    res["A5"].load_liquid(liquid["Stop (3% H3PO4)"], 1000)
    assay["P23"].load_liquid(liquid["Kinase buffer"], 50)
    temp.set_temperature(30)

    ctx.comment("3-fold series in DMSO, one tip set")
    m50.pick_up_tip()
    for a, b in ((0, 1), (1, 2)):
        m50.aspirate(20, src.columns()[a][0])
        m50.dispense(20, src.columns()[b][0])
        m50.mix(3, 30, src.columns()[b][0])
    m50.drop_tip()

    ctx.comment("Intermediate plate: 95 uL buffer, from the top")
    m50.pick_up_tip()
    for k in range(4):
        for _ in range(2):
            m50.aspirate(47.5, res["A1"])
            m50.dispense(47.5, inter.columns()[k][0].top())
    m50.drop_tip()
    for k in range(4):
        m50.pick_up_tip()
        m50.aspirate(5, src.columns()[k][0])
        m50.dispense(5, inter.columns()[k][0])
        m50.mix(3, 40, inter.columns()[k][0])
        m50.drop_tip()

    ctx.comment("Compound to the reaction plate")
    for k, dest in enumerate((1, 2, 3, 4, 5)):
        m50.pick_up_tip()
        m50.aspirate(5, inter.columns()[min(k, 3)][0])
        m50.dispense(5, assay[f"A{dest}"])
        m50.drop_tip()

    ctx.comment("Enzyme mix (no-enzyme mix for column 5), from the top")
    m50.pick_up_tip()
    m50.aspirate(40, res["A2"])
    for dest in (1, 2, 3, 4):
        m50.dispense(10, assay[f"A{dest}"].top())
    m50.drop_tip()
    m50.pick_up_tip()
    m50.aspirate(10, res["A3"])
    m50.dispense(10, assay["A5"].top())
    m50.drop_tip()
    ctx.delay(minutes=10, msg="pre-incubation")

    ctx.comment("Start with hot ATP: fresh tips per column, from the top, straight to the trash")
    for dest in (1, 2, 3, 4, 5):
        m50.pick_up_tip()
        m50.aspirate(10, res["A4"])
        m50.dispense(10, assay[f"A{dest}"].top())
        m50.drop_tip()
    ctx.delay(minutes=40, msg="reaction at 30 C")

    ctx.comment("Stop")
    for dest in (1, 2, 3, 4, 5):
        m50.pick_up_tip()
        m50.aspirate(10, res["A5"])
        m50.dispense(10, assay[f"A{dest}"].top())
        m50.drop_tip()

    ctx.comment("Single nozzle: buffer into P24")
    m50.configure_nozzle_layout(style=SINGLE, start="H1", tip_racks=[tips_single])
    m50.pick_up_tip()
    m50.aspirate(20, assay["P23"])
    m50.dispense(20, assay["P24"].top())
    m50.drop_tip()
    temp.deactivate()
    ctx.pause("Transfer to the filter plate, wash, dry, add scintillant and count")
