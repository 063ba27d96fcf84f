"""A plain serial-dilution plate (the Opentrons tutorial job)."""
