"""Catalog names that several pipelines read: the trained models of each fold, by the keyword their
nodes take, and the fold namespaces.

The modelling pipeline trains, in each fold's namespace (``fold_0``, ``fold_1``, ...), a
``full_model`` and one ``<group>_specialist`` per specialist group; predict reads them by the same
names in its own nodes of that namespace. Pipelines never import each other, only this module.
"""

from __future__ import annotations

from facial_keypoints.domain.keypoints import SPECIALIST_GROUPS


def fold_namespace(fold: int) -> str:
    """The namespace of one fold's nodes and datasets."""
    return f"fold_{fold}"


def fold_output(fold: int, name: str) -> str:
    """The catalog name of a fold's output that nodes outside the fold read (``fold_0_<name>``).

    Kedro names a fold's own datasets ``fold_0.<name>`` and warns when nodes outside name them so.
    """
    return f"{fold_namespace(fold)}_{name}"


def per_fold(name: str, folds: int) -> dict[str, str]:
    """Node inputs ``{fold namespace: dataset}``: every fold's output ``name``."""
    return {fold_namespace(k): fold_output(k, name) for k in range(folds)}


def specialist_dataset(group: str) -> str:
    """The catalog name of a specialist's model (inside a fold's namespace)."""
    return f"{group}_specialist"


def specialist_summary_dataset(group: str) -> str:
    """The catalog name of what a specialist's training measured (inside a fold's namespace)."""
    return f"{group}_specialist_training"


#: Node inputs ``{keyword: dataset}`` of every model of a fold: ``full_model`` and one per group.
MODEL_INPUTS: dict[str, str] = {
    "full_model": "full_model",
    **{group: specialist_dataset(group) for group in SPECIALIST_GROUPS},
}

#: Node inputs ``{keyword: dataset}`` of every training summary of a fold.
SUMMARY_INPUTS: dict[str, str] = {
    "full_model": "full_model_training_summary",
    **{group: specialist_summary_dataset(group) for group in SPECIALIST_GROUPS},
}
