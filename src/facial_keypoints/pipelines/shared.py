"""Catalog names that several pipelines read: the trained models, by the keyword their nodes take.

The modelling pipeline writes ``full_model`` and one ``<group>_specialist`` per specialist group;
reporting and submission read all of them. Pipelines never import each other, only this module.
"""

from __future__ import annotations

from facial_keypoints.keypoints import SPECIALIST_GROUPS


def specialist_dataset(group: str) -> str:
    """The catalog name of a specialist's model."""
    return f"{group}_specialist"


def specialist_summary_dataset(group: str) -> str:
    """The catalog name of what a specialist's training measured."""
    return f"{group}_specialist_training"


#: Node inputs ``{keyword: dataset}`` of every trained model: ``full_model`` and one per group.
MODEL_INPUTS: dict[str, str] = {
    "full_model": "full_model",
    **{group: specialist_dataset(group) for group in SPECIALIST_GROUPS},
}

#: Node inputs ``{keyword: dataset}`` of every training summary.
SUMMARY_INPUTS: dict[str, str] = {
    "full_model": "full_model_training_summary",
    **{group: specialist_summary_dataset(group) for group in SPECIALIST_GROUPS},
}
