"""The CellTiter-Glo cell viability assay."""
