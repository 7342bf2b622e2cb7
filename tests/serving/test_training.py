"""Which runs log the served model: those that train what it reads, whatever part of them runs."""

from __future__ import annotations

import pytest
from kedro.pipeline import Pipeline

from facial_keypoints.pipeline_registry import discover_pipelines
from facial_keypoints.pipelines.predict.pipeline import (
    SERVING_INPUT,
    SERVING_OUTPUT,
    create_serving_pipeline,
)
from facial_keypoints.serving.training import ServedTraining, served

FOLDS = 2


@pytest.fixture(scope="module")
def submission() -> ServedTraining:
    pipelines = discover_pipelines(folds=FOLDS)
    return served(
        sum(pipelines.values(), Pipeline([])), create_serving_pipeline(folds=FOLDS), SERVING_INPUT
    )


def test_the_served_model_takes_a_request_and_the_run_s_artefacts_and_gives_keypoints(submission):
    inference = submission.inference
    assert inference.outputs() == {SERVING_OUTPUT}
    artefacts = inference.inputs() - {SERVING_INPUT}
    assert {"combination", "flip_convention", "fold_1.full_model", "fold_1.nose_tip_specialist"} < (
        artefacts
    )
    assert {name for name in artefacts if not name.startswith("params:")} <= (
        submission.all_outputs()
    )


@pytest.mark.parametrize(
    ("part", "still_served"),
    [
        ({}, True),
        ({"to_nodes": ["fold_0.split_fold"]}, False),  # trains nothing
        ({"to_nodes": ["fold_0.train_full_model"]}, False),  # one model of four, the rest unmade
        ({"from_nodes": ["fit_combination"]}, False),  # reads the models, trains none
        ({"node_namespaces": ["fold_0"]}, False),
        ({"from_nodes": ["parse_training"]}, True),
    ],
)
def test_a_part_of_the_run_logs_the_model_only_if_it_trains_all_of_it(
    submission, part, still_served
):
    filtered = submission.filter(**part)
    assert isinstance(filtered, ServedTraining) is still_served
    assert filtered.nodes  # and the part runs: kedro-mlflow's own check would raise


def test_the_parts_kedro_viz_takes_are_plain_pipelines_without_a_warning(submission, caplog):
    parts = [
        submission.only_nodes("fit_combination"),
        submission.only_nodes_with_namespaces(["fold_0"]),
        submission.only_nodes_with_inputs("folds"),
        submission.only_nodes_with_outputs("combination"),
        submission + Pipeline([]),
        Pipeline([]) + submission,
        submission - submission.only_nodes("fit_combination"),
        submission | Pipeline([]),
    ]
    assert [type(part) for part in parts[:4] + parts[6:]] == [Pipeline] * 6
    assert parts[4] is submission and parts[5] is submission
    assert all(part.nodes for part in parts)
    assert "BEWARE" not in caplog.text
