"""Wiring of the data_engineering pipeline."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    augment_training,
    choose_flip_convention,
    clean_training,
    make_folds,
    parse_test,
    parse_training,
    read_groups,
    validate_lookup,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Raw Kaggle files -> validated arrays -> clean -> folds (and flip convention, offline augmentation)."""
    return Pipeline(
        [
            Node(parse_test, "test_raw", "test_faces", name="parse_test"),
            Node(
                validate_lookup,
                ["id_lookup_raw", "test_faces"],
                "id_lookup",
                name="validate_lookup",
            ),
            Node(parse_training, "training_raw", "training_faces", name="parse_training"),
            Node(
                clean_training,
                ["training_faces", "params:cleaning"],
                "training_clean",
                name="clean_training",
            ),
            Node(
                read_groups, ["training_faces", "params:cv"], "training_groups", name="read_groups"
            ),
            Node(
                make_folds,
                ["training_clean", "training_groups", "params:cv"],
                ["folds", "fold_grouping"],
                name="make_folds",
            ),
            Node(
                choose_flip_convention,
                ["training_clean", "params:augment"],
                "flip_convention",
                name="choose_flip_convention",
            ),
            Node(
                augment_training,
                ["training_clean", "flip_convention", "params:augment"],
                "train_faces_augmented",
                name="augment_training",
            ),
        ],
        tags="data",
    )
