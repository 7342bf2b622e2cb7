"""Nested values as one level of dotted keys (as MLflow records parameters and metrics, and as
``--params`` names a parameter), and back."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel


def flatten(
    tree: Mapping[str, Any],
    prefix: str = "",
    leaf: Callable[[Mapping[str, Any]], bool] = lambda mapping: False,
) -> dict[str, Any]:
    """Nested mappings and pydantic models as one level of dotted keys: ``{"a": {"b": 1}}`` ->
    ``{"a.b": 1}``; other values (lists included), empty mappings and mappings that ``leaf``
    accepts are leaves."""
    flat: dict[str, Any] = {}
    for key, item in tree.items():
        name = f"{prefix}{key}"
        value = item.model_dump(mode="json") if isinstance(item, BaseModel) else item
        if isinstance(value, Mapping) and value and not leaf(value):
            flat.update(flatten(value, f"{name}.", leaf))
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


def unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted keys as nested mappings: ``{"a.b": 1}`` -> ``{"a": {"b": 1}}``."""
    tree: dict[str, Any] = {}
    for name, value in flat.items():
        *path, last = name.split(".")
        branch = tree
        for part in path:
            branch = branch.setdefault(part, {})
        branch[last] = value
    return tree


def merged(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``update`` merged in, nested mappings key by key (copied, never changed)."""
    result = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result
