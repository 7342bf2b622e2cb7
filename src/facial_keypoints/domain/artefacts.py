"""What the artefacts the kit reads back must hold, and the command that writes each one again.

A damaged or hand-edited artefact (``folds.csv``, ``combination.json``, ``flip_convention.json``,
``metrics.json``, the training summaries) would otherwise fail deep inside a node with a
``KeyError``, or worse be used. The catalog names an entry's schema (``metadata: {schema: <name>}``)
and its dataset checks every load against it (``datasets/artefacts.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError, field_validator

from facial_keypoints.domain.keypoints import COLUMNS


class _Held(BaseModel):
    """The keys the kit reads; others may be there too."""

    model_config = ConfigDict(extra="allow")


class Combination(_Held):
    """``combination.json``: the fitted weights of the models' views, per coordinate."""

    folds: int = Field(ge=1)
    flip_tta: bool
    weights: dict[str, dict[str, float]] = Field(min_length=1)
    oof_rmse: float
    specialists: list[str]

    @field_validator("weights")
    @classmethod
    def _per_coordinate(cls, weights: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        unknown = sorted(set(weights) - set(COLUMNS))
        if unknown:
            raise ValueError(f"weights for unknown coordinates {unknown[:3]}")
        return weights


class FlipConvention(_Held):
    """``flip_convention.json``: how the training labels name left and right."""

    mirror: float
    method: str


class TrainingSummary(_Held):
    """One model's training summary."""

    training_samples: int = Field(ge=0)
    epochs: int = Field(ge=0)
    seconds: float = Field(ge=0)
    history: dict[str, list[float]]


class TrainingSummaries(RootModel[dict[str, dict[str, TrainingSummary]]]):
    """``training_summaries.json``: every fold's models' summaries."""


class Metrics(_Held):
    """``metrics.json``: the report."""

    oof_rmse: float
    folds: int = Field(ge=1)
    per_model: dict[str, dict[str, Any]]
    per_keypoint: dict[str, float]


#: The least value of each column of folds.csv: rows count from 1, fold -1 is training only.
_LEAST = {"row": 1, "fold": -1, "group": 0}


def _folds_problem(folds: pd.DataFrame) -> str | None:
    """What is wrong with a ``folds.csv`` table on its own (its match with the faces and with
    ``cv.folds`` is checked where both are known)."""
    if list(folds.columns) != ["row", "fold", "group"]:
        return f"has the columns {list(folds.columns)}, expected ['row', 'fold', 'group']"
    for column, least in _LEAST.items():
        numbers = pd.to_numeric(folds[column], errors="coerce")
        bad = folds[column][numbers.isna() | (numbers != numbers.round()) | (numbers < least)]
        if len(bad):
            return (
                f"has {column} {bad.iloc[0]!r} on line {int(bad.index[0]) + 2}: "
                f"expected a whole number >= {least}"
            )
    repeated = folds["row"][folds["row"].duplicated()]
    if len(repeated):
        return f"gives row {int(repeated.iloc[0])} twice"
    return None


def _model_problem(model: type[BaseModel]) -> Callable[[Any], str | None]:
    def problem(data: Any) -> str | None:
        try:
            model.model_validate(data)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"]) or "the document"
            return f"has {where}: {error['msg']}"
        return None

    return problem


@dataclass(frozen=True)
class Schema:
    """A check of an artefact's content, and the command that writes the artefact again."""

    problem: Callable[[Any], str | None]
    rewrite: str


#: The schemas the catalog's entries name.
SCHEMAS: dict[str, Schema] = {
    "folds": Schema(_folds_problem, "kedro run --pipelines data_engineering"),
    "flip_convention": Schema(
        _model_problem(FlipConvention), "kedro run --pipelines data_engineering"
    ),
    "combination": Schema(_model_problem(Combination), "kedro run --pipelines modelling"),
    "training_summary": Schema(_model_problem(TrainingSummary), "kedro run --pipelines modelling"),
    "training_summaries": Schema(
        _model_problem(TrainingSummaries), "kedro run --pipelines modelling"
    ),
    "metrics": Schema(_model_problem(Metrics), "kedro run --pipelines reporting"),
}
