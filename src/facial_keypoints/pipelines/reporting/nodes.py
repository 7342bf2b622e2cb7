"""Nodes of the reporting pipeline: Kaggle's metric on the out-of-fold predictions, and pictures.

Every training face in a fold's validation set is predicted by the models of that fold, which never
trained on it: out of fold (OOF). With ``cv.folds`` = 1 that is the one holdout.

``metrics.json`` schema (RMSE in pixels over the present values of the out-of-fold faces):

- ``oof_rmse``: the final combination (what each fold's part of the submission uses), cross-fitted:
  each face scored with weights fitted on other faces; ``oof_rmse_in_sample``: with the weights
  fitted on all of them (optimistic).
- ``folds``: how many folds; ``faces``: how many out-of-fold faces.
- ``per_keypoint``: {column: RMSE of the final combination} for all 30 columns.
- ``per_model``: {model: {oof_rmse, training_samples, epochs, seconds_per_epoch, seconds}} for
  ``mean_baseline`` (each column's training mean), ``full_model``, ``full_model_flip_tta``, each enabled
  specialist (on its own columns) and ``final_combination``; faces, epochs and seconds per epoch are
  means over the folds, seconds their sum.
- ``per_specialist``: {group: {specialist, full_model, final_combination}}: RMSE on the group's columns.
- ``per_fold``: {fold: {faces, final_combination, full_model, mean_baseline}}; ``fold_rmse_mean`` and
  ``fold_rmse_std`` of the final combination over the folds.
- ``ensemble`` (2 folds or more, else null): the submission averages the folds' predictions;
  ``ambiguity`` is the folds' mean squared spread around their average on the test faces, and
  ``estimated_rmse`` = sqrt(OOF MSE - ambiguity) the average's RMSE that this implies (the ambiguity
  decomposition, see :func:`facial_keypoints.arrays.stacking.ambiguity`); ``estimated_gain`` its
  difference from ``oof_rmse`` (a single fold's models).
- ``grouping``: what kept faces together in the folds (fold_grouping.json: the ``cv.groups`` file
  and column, near-duplicates, ``description``); ``unseen_people`` true when a group file made them.
- ``estimate``: {rmse, unseen_people}: the submission's own estimated RMSE: ``ensemble``'s
  ``estimated_rmse`` for 2 folds or more, else ``oof_rmse``; on faces of people absent from
  training when ``unseen_people``, else on faces of people also in training.
- ``combination``: {flip_tta, main_model: {model: columns where it weighs most (its plain and
  mirrored views together)}, mean_weight: {model: weight averaged over the 30 columns},
  mirrored_share: the share of all weight on mirrored faces}; the weights are in combination.json.
- ``best_keypoints`` / ``worst_keypoints``: the 4 columns with the lowest / highest RMSE.
- ``best_faces`` / ``worst_faces``: the 4 out-of-fold faces (training row ids) with the lowest /
  highest RMSE of the final combination.
"""

from __future__ import annotations

from typing import Any

import lazy_loader
import numpy as np

from facial_keypoints.arrays import stacking
from facial_keypoints.domain.faces import Faces, by_ids, rmse
from facial_keypoints.domain.keypoints import COLUMNS, SPECIALIST_GROUPS, columns_of
from facial_keypoints.domain.nested import numbers

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


def _face_rmse(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    squared = np.where(np.isnan(truth), np.nan, (predicted - truth) ** 2)
    return np.sqrt(np.nanmean(squared, axis=1))


def _enabled(summaries: dict[str, dict[str, Any]]) -> list[str]:
    """The models of a fold that were trained (specialists not enabled are not)."""
    return [name for name, summary in summaries.items() if summary.get("enabled", True)]


def _training(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """A model's training over the folds: mean faces, epochs and seconds per epoch; total seconds."""
    if not summaries:
        return dict.fromkeys(("training_samples", "epochs", "seconds_per_epoch", "seconds"))
    mean = {
        key: float(np.mean([summary[key] for summary in summaries]))
        for key in ("training_samples", "epochs", "seconds_per_epoch")
    }
    return {**mean, "seconds": float(sum(summary["seconds"] for summary in summaries))}


def _combination_summary(combination: dict[str, Any]) -> dict[str, Any]:
    """How much each model weighs in the combination, and how much the mirrored faces do."""
    weights = list(combination["weights"].values())
    models = sorted({name.removesuffix(stacking.MIRRORED) for column in weights for name in column})

    def model_weight(column: dict[str, float], model: str) -> float:
        return column.get(model, 0.0) + column.get(model + stacking.MIRRORED, 0.0)

    main = [max(models, key=lambda model: model_weight(column, model)) for column in weights]
    mirrored = sum(
        w for column in weights for name, w in column.items() if name.endswith(stacking.MIRRORED)
    )
    total = sum(sum(column.values()) for column in weights)
    # flip_tta true averages every view with its mirrored one before weighing: half the weight
    mirrored_share = 0.5 if combination["flip_tta"] is True else mirrored / total
    return {
        "flip_tta": combination["flip_tta"],
        "main_model": {model: main.count(model) for model in models if model in main},
        "mean_weight": {
            model: round(float(np.mean([model_weight(column, model) for column in weights])), 4)
            for model in models
        },
        "mirrored_share": round(mirrored_share, 4),
    }


def compute_metrics(
    faces: Faces,
    oof_predictions: dict[str, np.ndarray],
    oof_combination: dict[str, np.ndarray],
    combination: dict[str, Any],
    training_summaries: dict[str, dict[str, dict[str, Any]]],
    test_fold_predictions: dict[str, np.ndarray],
    fold_grouping: dict[str, Any],
) -> dict[str, Any]:
    """Kaggle's metric out of fold: overall, per keypoint, model, specialist and fold; the ensemble
    and the submission's estimate."""
    truth = by_ids(faces, oof_predictions["ids"])["keypoints"]
    views = stacking.views_of(oof_predictions)
    final = oof_combination["final_combination"]  # cross-fitted: not scored on its fitting faces
    full = views[stacking.FULL_MODEL]
    summaries = list(training_summaries.values())
    per_model = {
        "mean_baseline": {
            "oof_rmse": rmse(oof_predictions["mean_baseline"], truth),
            **_training([]),
        },
        "full_model": {
            "oof_rmse": rmse(full, truth),
            **_training([fold["full_model"] for fold in summaries]),
        },
    }
    if stacking.FULL_MODEL + stacking.MIRRORED in views:
        tta = stacking.prepare_views(views, True)[stacking.FULL_MODEL]
        per_model["full_model_flip_tta"] = {"oof_rmse": rmse(tta, truth), **_training([])}
    per_specialist = {}
    for group in _enabled(summaries[0]):
        if group == "full_model":
            continue
        columns = columns_of(SPECIALIST_GROUPS[group])
        specialist = rmse(views[stacking.specialist_view(group)][:, columns], truth[:, columns])
        per_model[f"specialist_{group}"] = {
            "oof_rmse": specialist,
            **_training([fold[group] for fold in summaries]),
        }
        per_specialist[group] = {
            "specialist": specialist,
            "full_model": rmse(full[:, columns], truth[:, columns]),
            "final_combination": rmse(final[:, columns], truth[:, columns]),
        }
    oof_rmse = rmse(final, truth)
    per_model["final_combination"] = {"oof_rmse": oof_rmse, **_training([])}
    per_fold = {}
    for k in np.unique(oof_predictions["fold"]):
        rows = oof_predictions["fold"] == k
        per_fold[f"fold_{k}"] = {
            "faces": int(rows.sum()),
            "final_combination": rmse(final[rows], truth[rows]),
            "full_model": rmse(full[rows], truth[rows]),
            "mean_baseline": rmse(oof_predictions["mean_baseline"][rows], truth[rows]),
        }
    fold_rmse = [fold["final_combination"] for fold in per_fold.values()]
    per_keypoint = {name: rmse(final[:, c], truth[:, c]) for c, name in enumerate(COLUMNS)}
    ranked = sorted(per_keypoint, key=per_keypoint.get)
    face_rmse = _face_rmse(final, truth)
    order = np.argsort(face_rmse)
    ensemble = _ensemble(oof_rmse, test_fold_predictions["folds"])
    return {
        "oof_rmse": oof_rmse,
        "oof_rmse_in_sample": combination["oof_rmse_in_sample"],
        "folds": len(per_fold),
        "faces": len(truth),
        "per_keypoint": per_keypoint,
        "per_model": per_model,
        "per_specialist": per_specialist,
        "per_fold": per_fold,
        "fold_rmse_mean": float(np.mean(fold_rmse)),
        "fold_rmse_std": float(np.std(fold_rmse)),
        "ensemble": ensemble,
        "grouping": fold_grouping,
        "estimate": {
            "rmse": ensemble["estimated_rmse"] if ensemble else oof_rmse,
            "unseen_people": fold_grouping["unseen_people"],
        },
        "combination": _combination_summary(combination),
        "best_keypoints": ranked[:_SHOWN],
        "worst_keypoints": ranked[::-1][:_SHOWN],
        "best_faces": [
            {"id": int(oof_predictions["ids"][i]), "rmse": float(face_rmse[i])}
            for i in order[:_SHOWN]
        ],
        "worst_faces": [
            {"id": int(oof_predictions["ids"][i]), "rmse": float(face_rmse[i])}
            for i in order[::-1][:_SHOWN]
        ],
    }


def _ensemble(oof_rmse: float, fold_predictions: np.ndarray) -> dict[str, Any] | None:
    """What averaging the folds' test predictions is estimated to gain (None for one fold)."""
    if len(fold_predictions) == 1:
        return None
    spread = stacking.ambiguity(fold_predictions)
    estimated = float(np.sqrt(max(oof_rmse**2 - spread, 0.0)))
    return {
        "folds": len(fold_predictions),
        "ambiguity": spread,
        "estimated_rmse": estimated,
        "estimated_gain": oof_rmse - estimated,
    }


def tracked_metrics(metrics: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Every finite number of the report as ``{dotted key: {value, step}}``, as MLflow records it
    (``per_model.full_model.oof_rmse``)."""
    return {key: {"value": value, "step": 0} for key, value in numbers(metrics).items()}


def format_metrics(metrics: dict[str, Any]) -> str:
    """The readable table of the report, printed at the end of a run."""
    lines = [f"{'model':<36}{'OOF RMSE':>10}{'faces':>8}{'epochs':>8}{'s/epoch':>9}{'seconds':>9}"]
    for name, row in metrics["per_model"].items():
        cells = [
            row.get(key) for key in ("training_samples", "epochs", "seconds_per_epoch", "seconds")
        ]
        shown = ["-" if value is None else f"{value:.0f}" for value in cells]
        lines.append(
            f"{name:<36}{row['oof_rmse']:>10.4f}{shown[0]:>8}{shown[1]:>8}{shown[2]:>9}{shown[3]:>9}"
        )
    per_fold = " ".join(f"{fold['final_combination']:.4f}" for fold in metrics["per_fold"].values())
    lines.append(
        f"per fold: {per_fold}"
        f" (mean {metrics['fold_rmse_mean']:.4f} ± {metrics['fold_rmse_std']:.4f})"
    )
    if metrics["ensemble"]:
        lines.append(
            f"average of the {metrics['ensemble']['folds']} folds (the submission), estimated: "
            f"{metrics['ensemble']['estimated_rmse']:.4f} "
            f"({metrics['ensemble']['estimated_gain']:.4f} better than one fold's models)"
        )
    lines.append(f"folds grouped by {metrics['grouping']['description']}")
    chosen = metrics["combination"]
    lines.append(
        "combination, columns led by each model: "
        + ", ".join(f"{model} {count}" for model, count in chosen["main_model"].items())
        + f"; weight on mirrored faces {chosen['mirrored_share']:.0%}"
    )
    lines.append(f"worst keypoints: {', '.join(metrics['worst_keypoints'])}")
    lines.append(f"best keypoints:  {', '.join(metrics['best_keypoints'])}")
    return "\n".join(lines)


def plot_loss_curves(training_summaries: dict[str, dict[str, dict[str, Any]]]) -> Figure:
    """Training and validation RMSE per epoch of the full model and of each specialist trained,
    one colour per fold."""
    first = next(iter(training_summaries.values()))
    names = _enabled(first)
    rows = int(np.ceil(len(names) / _SHOWN))
    figure = _figure(figsize=(3.2 * _SHOWN, 2.8 * rows))
    axes = np.ravel(figure.subplots(rows, _SHOWN, sharey=True))
    for ax in axes[len(names) :]:
        ax.axis("off")
    for ax, name in zip(axes, names, strict=False):
        for i, (fold, summaries) in enumerate(training_summaries.items()):
            history = summaries[name]["history"]
            epochs = np.arange(1, len(history["loss"]) + 1)
            colour = f"C{i % 10}"
            ax.plot(epochs, history["rmse"], color=colour, linestyle=":", linewidth=1)
            ax.plot(epochs, history["val_rmse"], color=colour, label=fold)
        ax.set_title(name.replace("_", " "), fontsize=9)
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
    for ax in axes[::_SHOWN]:
        ax.set_ylabel("RMSE (px)")
    axes[0].legend(fontsize=7, title="validation (dotted: training)", title_fontsize=7)
    figure.tight_layout()
    return figure


def plot_fold_rmse(metrics: dict[str, Any]) -> Figure:
    """Out-of-fold RMSE of each fold's final combination and full model, and of the fold average."""
    folds = metrics["per_fold"]
    figure = _figure(figsize=(max(4.0, 1.2 * len(folds) + 2), 3.6))
    ax = figure.subplots()
    x = np.arange(len(folds))
    for key, colour, marker in (
        ("full_model", "tab:gray", "s"),
        ("final_combination", "tab:blue", "o"),
    ):
        values = [fold[key] for fold in folds.values()]
        ax.plot(x, values, marker, color=colour, label=key.replace("_", " "))
    ax.axhline(
        metrics["oof_rmse"],
        color="tab:blue",
        linestyle="--",
        label=f"all folds {metrics['oof_rmse']:.3f}",
    )
    if metrics["ensemble"]:
        ax.axhline(
            metrics["ensemble"]["estimated_rmse"],
            color="tab:green",
            linestyle=":",
            label=f"fold average, estimated {metrics['ensemble']['estimated_rmse']:.3f}",
        )
    ax.set_xticks(x, list(folds))
    ax.set_ylabel("out-of-fold RMSE (px)")
    ax.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    return figure


def plot_keypoint_rmse(metrics: dict[str, Any]) -> Figure:
    """Out-of-fold RMSE of the final combination for each of the 30 coordinates."""
    names, values = zip(
        *sorted(metrics["per_keypoint"].items(), key=lambda item: item[1]), strict=True
    )
    figure = _figure(figsize=(8, 7))
    ax = figure.subplots()
    ax.barh(names, values, color="tab:blue")
    ax.axvline(
        metrics["oof_rmse"],
        color="tab:red",
        linestyle="--",
        label=f"overall {metrics['oof_rmse']:.3f} px",
    )
    ax.set_xlabel("out-of-fold RMSE (px)")
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


def plot_oof_faces(
    faces: Faces, oof_combination: dict[str, np.ndarray], metrics: dict[str, Any]
) -> Figure:
    """The best and worst out-of-fold faces with true (green) and predicted (red) keypoints."""
    chosen = [(face, "best") for face in metrics["best_faces"]] + [
        (face, "worst") for face in metrics["worst_faces"]
    ]
    index = {int(face_id): i for i, face_id in enumerate(oof_combination["ids"])}
    rows = [index[face["id"]] for face, _ in chosen]
    shown = by_ids(faces, oof_combination["ids"][rows])
    final = oof_combination["final_combination"][rows]
    titles = [f"{kind}: row {face['id']}, {face['rmse']:.2f} px" for face, kind in chosen]
    return _face_grid(shown["images"], list(shown["keypoints"]), final, titles, columns=_SHOWN)


def plot_test_faces(test: Faces, test_predictions: pd.DataFrame) -> Figure:
    """The first 16 test faces with the submission's predicted keypoints."""
    count = _SHOWN * _SHOWN
    values = test_predictions[list(COLUMNS)].to_numpy()[:count]
    titles = [f"ImageId {face_id}" for face_id in test["ids"][:count]]
    return _face_grid(test["images"][:count], [None] * len(values), values, titles, columns=_SHOWN)
