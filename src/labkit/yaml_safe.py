"""YAML that means what the user typed: duplicate keys are errors, and scalars resolve by YAML 1.2's core schema.

PyYAML implements YAML 1.1, where `factor: 1:2` is the base-60 number 62, `no` is False, `0755` is octal and
`1e3` is a string. labkit's layouts are read with the YAML 1.2 core schema instead: integers are decimal (or 0x/0o),
floats are decimal with an optional exponent (plus .inf/.nan, which quantity fields then refuse), booleans are only
true/false, null is null/~/empty; everything else is a string. So `1:2` stays the text "1:2" (the dilution
factor accepts "1:2" and "1/2" as 2, see `labkit.layout.models.SerialDilution`) and never silently becomes 62.
A key given twice in one mapping (a second `plates:`, a field repeated) is an error naming both lines.

Anchors and aliases (`&std` / `*std`) stay usable for sharing a block, but an alias may not point
into the node it sits in (a loop), and the document, counted with every alias expanded, may have at most
MAX_EXPANDED_NODES values: a "billion laughs" alias bomb is refused at the alias that crosses the cap, with its
line, before anything is built from it (AliasError).
"""

from __future__ import annotations

import re
from typing import Any, cast

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.error import Mark
from yaml.events import AliasEvent

__all__ = ["AliasError", "DuplicateKeyError", "MAX_EXPANDED_NODES", "SafeDumper", "SafeLoader", "compose", "dump",
           "load"]

# the seed layouts have 41-122 values; 100,000 leaves room for big hand-written layouts and stops alias bombs
MAX_EXPANDED_NODES = 100_000


class DuplicateKeyError(ConstructorError):
    """A mapping that gives the same key twice."""


class AliasError(ComposerError):
    """An alias that loops back into its own anchor, or aliases that expand the document past the cap."""

    def __init__(self, problem: str, event: AliasEvent) -> None:
        # types-PyYAML types an event's mark as the C or the pure-Python Mark; both carry line and column
        super().__init__(None, None, problem, cast("Mark | None", event.start_mark))


def _expanded(node: yaml.Node, memo: dict[int, int]) -> int:
    """Number of values in node with every alias expanded (memoised: linear in the distinct nodes)."""
    key = id(node)
    if key not in memo:
        memo[key] = 1  # provisional: a loop (refused while composing) cannot recurse for ever
        if isinstance(node, yaml.SequenceNode):
            memo[key] = 1 + sum(_expanded(n, memo) for n in node.value)
        elif isinstance(node, yaml.MappingNode):
            memo[key] = 1 + sum(_expanded(k, memo) + _expanded(v, memo) for k, v in node.value)
    return memo[key]


class SafeLoader(yaml.SafeLoader):
    """yaml.SafeLoader with YAML 1.2 core-schema scalars, duplicate-key errors and an alias-expansion cap."""

    def compose_document(self) -> yaml.Node | None:
        """Compose one document, counting its values as if every alias were copied out."""
        self._open_anchors: list[str] = []
        self._expanded_total = 0
        self._sizes: dict[int, int] = {}
        return super().compose_document()

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """Compose a node; an alias adds its expanded size, and may not point into a node still open."""
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            target = self.anchors.get(event.anchor)
            if target is not None:
                if event.anchor in getattr(self, "_open_anchors", ()):
                    raise AliasError(f"alias *{event.anchor} refers to the node it is inside (a loop); "
                                     "copy the values instead", event)
                self._expanded_total += _expanded(target, self._sizes)
                self._check(event)
            return super().compose_node(parent, index)
        self._expanded_total += 1
        anchor = getattr(event, "anchor", None)
        if anchor is None:
            return super().compose_node(parent, index)
        self._open_anchors.append(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._open_anchors.pop()

    def _check(self, event: AliasEvent) -> None:
        if self._expanded_total > MAX_EXPANDED_NODES:
            raise AliasError(f"aliases expand this document to more than {MAX_EXPANDED_NODES:,} values "
                             f"(at alias *{event.anchor}); an alias bomb? Write the values out, or share less "
                             "through anchors", event)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        """Build a mapping, refusing a key that appears twice."""
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)
            seen: dict[Any, yaml.Node] = {}
            for key_node, _ in node.value:
                try:
                    key = self.construct_object(key_node, deep=True)
                    hash(key)
                except TypeError:
                    continue  # the base class reports unhashable keys
                if key in seen:
                    first = seen[key].start_mark.line + 1
                    raise DuplicateKeyError(
                        "while constructing a mapping", node.start_mark,
                        f"duplicate key {key!r} (first given on line {first}); give each field once",
                        key_node.start_mark)
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


# YAML 1.2 core schema resolvers replace PyYAML's YAML 1.1 ones (sexagesimal, yes/no/on/off, 0-octal, '_' digits)
SafeLoader.yaml_implicit_resolvers = {}
SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789"))
SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))


def _int12(loader: SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


def _float12(loader: SafeLoader, node: yaml.ScalarNode) -> float:
    text = str(loader.construct_scalar(node)).lower()
    if text.endswith(".inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    if text == ".nan":
        return float("nan")
    return float(text)


SafeLoader.add_constructor("tag:yaml.org,2002:int", _int12)
SafeLoader.add_constructor("tag:yaml.org,2002:float", _float12)


def load(text: str) -> Any:
    """Parse YAML text (one document) with SafeLoader; raises yaml.YAMLError (DuplicateKeyError included)."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - SafeLoader subclass


def compose(text: str) -> yaml.Node | None:
    """The node tree of YAML text (for line numbers), resolved the same way as `load`."""
    return yaml.compose(text, Loader=SafeLoader)


class SafeDumper(yaml.SafeDumper):
    """yaml.SafeDumper that quotes exactly the strings SafeLoader would read as something else."""


SafeDumper.yaml_implicit_resolvers = dict(SafeLoader.yaml_implicit_resolvers)


def dump(data: Any) -> str:
    """YAML text that `load` reads back as `data` (keys in insertion order, Unicode kept)."""
    return yaml.dump(data, Dumper=SafeDumper, sort_keys=False, allow_unicode=True)
