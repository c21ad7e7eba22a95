# ruff: noqa: B018
"""Enumerations are not sequences: iteration and lookup by name are rejected."""

import typedeqx as eqx


class Colour(eqx.Enumeration):
    red = "It is red."
    blue = "It is blue."


# Iterating fails at run time (a ValueError naming the enumeration).
for _item in Colour:  # type: ignore[misc]  # pyright: ignore[reportGeneralTypeIssues, reportUnknownVariableType]
    pass
list(Colour)  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]

# Lookup by name is attribute access (`Colour.red`); indexing takes an item and
# gives its message. pyright rejects a name. mypy cannot: for any `enum.Enum` class
# it reads `Colour[...]` as lookup by name (accepting `Colour["red"]`, and flagging
# `Colour[Colour.red]`), before it consults the stub.
Colour["red"]  # pyright: ignore[reportArgumentType]
