"""The radiometric [γ-33P]ATP kinase assay on a P81 filter plate."""
