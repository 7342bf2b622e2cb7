"""Nested values as one level of dotted keys, as MLflow records parameters and metrics."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings and pydantic models as one level of dotted keys: ``{"a": {"b": 1}}`` ->
    ``{"a.b": 1}``; other values (lists included) are leaves."""
    flat: dict[str, Any] = {}
    for key, item in tree.items():
        name = f"{prefix}{key}"
        value = item.model_dump(mode="json") if isinstance(item, BaseModel) else item
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def numbers(tree: Mapping[str, Any]) -> dict[str, float]:
    """The finite numbers among the flattened leaves of ``tree`` (no booleans, lists or None)."""
    return {
        key: float(value)
        for key, value in flatten(tree).items()
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    }


def plain(tree: Mapping[str, Any]) -> dict[str, Any]:
    """``tree`` with its pydantic models as the plain values they were read from."""
    return {
        key: value.model_dump(mode="json") if isinstance(value, BaseModel) else value
        for key, value in tree.items()
    }


def replaced(tree: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``tree`` with each dotted key of ``values`` set (``{"a.b": 2}`` sets
    ``tree["a"]["b"]``); the mappings on the way are copied, the rest is shared."""
    copy = dict(tree)
    for dotted, value in values.items():
        head, _, rest = dotted.partition(".")
        copy[head] = replaced(copy[head], {rest: value}) if rest else value
    return copy
