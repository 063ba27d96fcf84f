"""labkit: from a plate layout to an IC50 table."""

__version__ = "0.1.0"
