"""Plan -> standalone Opentrons protocol source."""
