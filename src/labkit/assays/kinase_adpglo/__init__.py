"""The ADP-Glo luminescent kinase assay (Promega TM313): kinase reaction, ADP-Glo Reagent, Kinase Detection Reagent."""
