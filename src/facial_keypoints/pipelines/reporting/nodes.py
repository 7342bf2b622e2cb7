"""Nodes of the reporting pipeline: Kaggle's metric on the validation split, and pictures.

``metrics.json`` schema (RMSE in pixels over the present values of the validation faces):

- ``val_rmse``: the final combination (what the submission uses).
- ``per_keypoint``: {column: RMSE of the final combination} for all 30 columns.
- ``per_model``: {model: {val_rmse, training_samples, epochs, seconds_per_epoch, seconds}} for
  ``model_0`` (each column's training mean), ``full_model``, each specialist (on its own columns)
  and ``final_combination``.
- ``per_specialist``: {group: {specialist, full_model, final_combination}}: RMSE on the group's columns.
- ``best_keypoints`` / ``worst_keypoints``: the 4 columns with the lowest / highest RMSE.
- ``best_faces`` / ``worst_faces``: the 4 validation faces (training row ids) with the lowest /
  highest RMSE of the final combination.
"""

from __future__ import annotations

from typing import Any

import lazy_loader
import numpy as np

from facial_keypoints import nn
from facial_keypoints.faces import Faces, rmse
from facial_keypoints.keypoints import COLUMNS, SPECIALIST_GROUPS, columns_of
from facial_keypoints.nn import KerasModel
from facial_keypoints.params import CombinationParams

# pandas is imported on first use, not when Kedro loads the pipelines: `kedro` commands start fast.
pd = lazy_loader.load("pandas")


_SHOWN = 4

#: matplotlib's Figure: matplotlib is imported when a plot is drawn, not when Kedro loads the
#: pipeline, so that ``kedro`` commands that draw nothing start fast.
Figure = Any


def _figure(**kwargs: Any) -> Figure:
    """A new matplotlib figure, apart from pyplot's global state."""
    from matplotlib.figure import Figure as MatplotlibFigure  # noqa: PLC0415 - see Figure above

    return MatplotlibFigure(**kwargs)


def predict_validation(
    validation: Faces,
    combination: dict[str, Any],
    flip_convention: dict[str, Any],
    combination_params: CombinationParams,
    full_model: KerasModel,
    **specialists: KerasModel,
) -> dict[str, np.ndarray]:
    """Validation predictions of the full model, each specialist (its columns) and the final combination."""
    return nn.inference.predict_combination(
        full_model,
        specialists,
        combination,
        validation["images"],
        flip_convention["mirror"],
        combination_params.prediction_batch_size,
    )


def _face_rmse(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    squared = np.where(np.isnan(truth), np.nan, (predicted - truth) ** 2)
    return np.sqrt(np.nanmean(squared, axis=1))


def _enabled(summaries: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The training summaries of the specialists that were trained (enabled in the parameters)."""
    return {name: summary for name, summary in summaries.items() if summary["enabled"]}


def _training(summary: dict[str, Any] | None) -> dict[str, Any]:
    keys = ("training_samples", "epochs", "seconds_per_epoch", "seconds")
    return {key: (summary or {}).get(key) for key in keys}


def compute_metrics(
    train: Faces,
    validation: Faces,
    predictions: dict[str, np.ndarray],
    full_model: dict[str, Any],
    **specialists: dict[str, Any],
) -> dict[str, Any]:
    """Kaggle's metric overall, per keypoint, per model and per specialist; best and worst faces."""
    truth = validation["keypoints"]
    final = predictions["final_combination"]
    model_0 = np.tile(np.nanmean(train["keypoints"], axis=0), (len(truth), 1))
    per_keypoint = {name: rmse(final[:, c], truth[:, c]) for c, name in enumerate(COLUMNS)}
    per_model = {
        "model_0": {
            "val_rmse": rmse(model_0, truth),
            **_training(None),
            "training_samples": int((~np.isnan(train["keypoints"])).any(axis=1).sum()),
        },
        "full_model": {"val_rmse": rmse(predictions["full_model"], truth), **_training(full_model)},
    }
    per_specialist = {}
    for name, summary in _enabled(specialists).items():
        columns = columns_of(SPECIALIST_GROUPS[name])
        specialist_rmse = rmse(predictions[f"specialist_{name}"], truth[:, columns])
        per_model[f"specialist_{name}"] = {"val_rmse": specialist_rmse, **_training(summary)}
        per_specialist[name] = {
            "specialist": specialist_rmse,
            "full_model": rmse(predictions["full_model"][:, columns], truth[:, columns]),
            "final_combination": rmse(final[:, columns], truth[:, columns]),
        }
    per_model["final_combination"] = {"val_rmse": rmse(final, truth), **_training(None)}
    ranked = sorted(per_keypoint, key=per_keypoint.get)
    faces = _face_rmse(final, truth)
    order = np.argsort(faces)
    return {
        "val_rmse": rmse(final, truth),
        "per_keypoint": per_keypoint,
        "per_model": per_model,
        "per_specialist": per_specialist,
        "best_keypoints": ranked[:_SHOWN],
        "worst_keypoints": ranked[::-1][:_SHOWN],
        "best_faces": [
            {"id": int(validation["ids"][i]), "rmse": float(faces[i])} for i in order[:_SHOWN]
        ],
        "worst_faces": [
            {"id": int(validation["ids"][i]), "rmse": float(faces[i])} for i in order[::-1][:_SHOWN]
        ],
    }


def format_metrics(metrics: dict[str, Any]) -> str:
    """The readable table printed at the end of a run."""
    lines = [f"{'model':<36}{'val RMSE':>10}{'faces':>8}{'epochs':>8}{'s/epoch':>9}{'seconds':>9}"]
    for name, row in metrics["per_model"].items():
        cells = [
            row.get(key) for key in ("training_samples", "epochs", "seconds_per_epoch", "seconds")
        ]
        shown = [
            "-" if value is None else f"{value:.0f}" if isinstance(value, float) else str(value)
            for value in cells
        ]
        lines.append(
            f"{name:<36}{row['val_rmse']:>10.4f}{shown[0]:>8}{shown[1]:>8}{shown[2]:>9}{shown[3]:>9}"
        )
    lines.append(f"worst keypoints: {', '.join(metrics['worst_keypoints'])}")
    lines.append(f"best keypoints:  {', '.join(metrics['best_keypoints'])}")
    return "\n".join(lines)


def plot_loss_curves(full_model: dict[str, Any], **specialists: dict[str, Any]) -> Figure:
    """Training and validation RMSE per epoch of the full model and of each specialist trained."""
    summaries = {"full_model": full_model, **_enabled(specialists)}
    rows = int(np.ceil(len(summaries) / _SHOWN))
    figure = _figure(figsize=(3.2 * _SHOWN, 2.8 * rows))
    grid = figure.subplots(rows, _SHOWN, sharey=True)
    axes = np.ravel(grid)
    for ax in axes[len(summaries) :]:
        ax.axis("off")
    for ax, (name, summary) in zip(axes, summaries.items(), strict=False):
        history = summary["history"]
        epochs = np.arange(1, len(history["loss"]) + 1)
        ax.plot(epochs, history["rmse"], label="training (augmented)")
        ax.plot(epochs, history["val_rmse"], label="validation")
        ax.set_title(name.replace("_", " "), fontsize=9)
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
    for ax in axes[::_SHOWN]:
        ax.set_ylabel("RMSE (px)")
    axes[0].legend(fontsize=8)
    figure.tight_layout()
    return figure


def plot_keypoint_rmse(metrics: dict[str, Any]) -> Figure:
    """Validation RMSE of the final combination for each of the 30 coordinates."""
    names, values = zip(
        *sorted(metrics["per_keypoint"].items(), key=lambda item: item[1]), strict=True
    )
    figure = _figure(figsize=(8, 7))
    ax = figure.subplots()
    ax.barh(names, values, color="tab:blue")
    ax.axvline(
        metrics["val_rmse"],
        color="tab:red",
        linestyle="--",
        label=f"overall {metrics['val_rmse']:.3f} px",
    )
    ax.set_xlabel("validation RMSE (px)")
    ax.tick_params(axis="y", labelsize=7)
    ax.legend()
    figure.tight_layout()
    return figure


def _face_grid(
    images: np.ndarray,
    truths: list[np.ndarray | None],
    predictions: np.ndarray,
    titles: list[str],
    columns: int,
) -> Figure:
    rows = int(np.ceil(len(images) / columns))
    figure = _figure(figsize=(2.2 * columns, 2.4 * rows))
    axes = figure.subplots(rows, columns)
    for ax in np.ravel(axes):
        ax.axis("off")
    for ax, image, truth, predicted, title in zip(
        np.ravel(axes), images, truths, predictions, titles, strict=False
    ):
        ax.imshow(image, cmap="gray", vmin=0, vmax=255, extent=(0, 96, 96, 0))
        if truth is not None:
            ax.scatter(truth[0::2], truth[1::2], s=9, c="lime", label="true")
        ax.scatter(predicted[0::2], predicted[1::2], s=9, c="red", marker="x", label="predicted")
        ax.set_title(title, fontsize=8)
    np.ravel(axes)[0].legend(fontsize=6, loc="lower left")
    figure.tight_layout()
    return figure


def plot_validation_faces(
    validation: Faces, predictions: dict[str, np.ndarray], metrics: dict[str, Any]
) -> Figure:
    """The best and worst validation faces with true (green) and predicted (red) keypoints."""
    index = {int(face_id): i for i, face_id in enumerate(validation["ids"])}
    chosen = [(face, "best") for face in metrics["best_faces"]] + [
        (face, "worst") for face in metrics["worst_faces"]
    ]
    rows = [index[face["id"]] for face, _ in chosen]
    titles = [f"{kind}: row {face['id']}, {face['rmse']:.2f} px" for face, kind in chosen]
    return _face_grid(
        validation["images"][rows],
        list(validation["keypoints"][rows]),
        predictions["final_combination"][rows],
        titles,
        columns=_SHOWN,
    )


def plot_test_faces(test: Faces, test_predictions: pd.DataFrame) -> Figure:
    """The first 16 test faces with the submission's predicted keypoints."""
    count = _SHOWN * _SHOWN
    values = test_predictions[list(COLUMNS)].to_numpy()[:count]
    titles = [f"ImageId {face_id}" for face_id in test["ids"][:count]]
    return _face_grid(test["images"][:count], [None] * len(values), values, titles, columns=_SHOWN)
