"""Dose-response analysis: normalization, vectorised LL.4/LL.3 fitting, QC, plots and the report."""
