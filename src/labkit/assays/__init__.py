"""Assay kinds as plug-ins: one package per kind (its recipe for verification, …)."""
