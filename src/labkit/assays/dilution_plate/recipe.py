"""A dilution plate's recipe: the concentrations the core checks; nothing else is added to its wells."""

from __future__ import annotations

from labkit.simulate.recipe import Recipe


def recipe(exp) -> Recipe:
    """No checks beyond the core's concentration check."""
    return Recipe((), not_checked=("the diluent's identity (only the compound concentrations are checked)",))
