"""Wiring of the modelling pipeline: full model, one namespaced specialist block per group, combination."""

import warnings
from collections.abc import Callable

from kedro.pipeline import Node, Pipeline

from facial_keypoints.keypoints import SPECIALIST_GROUPS

from .nodes import choose_combination, train_full_model, train_specialist


def specialist_inputs(dataset: str) -> dict[str, str]:
    """``{group: "<group>.<dataset>"}``: one namespaced dataset of every specialist, by group name."""
    return {group: f"{group}.{dataset}" for group in SPECIALIST_GROUPS}


def node_with_specialists(
    func: Callable, inputs: dict[str, str], outputs: str | list[str], name: str
) -> Node:
    """A node whose inputs include namespaced specialist datasets, read as keyword arguments."""
    with warnings.catch_warnings():  # "<group>.model" is exactly the namespaced output to read
        warnings.filterwarnings("ignore", message="One or more dataset names contain '.'")
        return Node(func, inputs, outputs, name=name)


def models_node(func: Callable, inputs: dict[str, str], outputs: str, name: str) -> Node:
    """A node that also reads the full model and every specialist model, as keyword arguments."""
    models = {"full_model": "full_model", **specialist_inputs("model")}
    return node_with_specialists(func, {**inputs, **models}, outputs, name)


def specialist_template() -> Pipeline:
    """One specialist: fine-tune the full model on its group (instantiated per namespace)."""
    return Pipeline(
        [
            Node(
                train_specialist,
                [
                    "full_model",
                    "train_faces",
                    "validation_faces",
                    "flip_convention",
                    "params:specialist",
                ],
                ["model", "training_summary"],
                name="train_specialist",
            )
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    """The full-data CNN, six specialists (one namespace each), and the per-keypoint combination."""
    shared = {"full_model", "train_faces", "validation_faces", "flip_convention"}
    specialists = [
        Pipeline(specialist_template(), namespace=name, inputs=shared) for name in SPECIALIST_GROUPS
    ]
    full = Pipeline(
        [
            Node(
                train_full_model,
                ["train_faces", "validation_faces", "flip_convention", "params:full_model"],
                ["full_model", "full_model_training_summary"],
                name="train_full_model",
            )
        ]
    )
    combine_node = models_node(
        choose_combination,
        {
            "validation": "validation_faces",
            "flip_convention": "flip_convention",
            "params": "params:combination",
        },
        "combination",
        name="choose_combination",
    )
    return full + sum(specialists, Pipeline([])) + Pipeline([combine_node])
