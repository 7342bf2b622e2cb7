"""Delete the model versions that no one needs any more, as ``retention`` (conf/) says.

    python -m facial_keypoints.tools.prune [--env demo] [--keep N] [--dry-run]

Each run saves a new version of every model, the combination and the flip convention under
``data_root``. This keeps the versions of the ``retention.keep_versions`` latest complete training
runs, those of the MLflow runs you tagged ``keep`` (any value, e.g. in the MLflow UI), and the
latest version of every artefact; it deletes the rest, the partial versions of failed runs
included, and says how much it freed. ``--dry-run`` only lists.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from facial_keypoints.domain.params import check_block
from facial_keypoints.domain.versions import prune, versions
from facial_keypoints.hooks import tracking

_VERSION = re.compile(r"\d{4}-\d\d-\d\dT\d\d\.\d\d\.\d\d\.\d{3}Z")


def marked_versions() -> set[str]:
    """The save versions of the MLflow runs tagged ``keep`` (from their rebuild command)."""
    import mlflow  # noqa: PLC0415

    client = mlflow.MlflowClient()
    experiments = [experiment.experiment_id for experiment in client.search_experiments()]
    runs = client.search_runs(experiments, filter_string="tags.keep LIKE '%'", max_results=10000)
    return {
        version
        for run in runs
        for version in _VERSION.findall(run.data.tags.get("rebuild_command", ""))
    }


def main(argv: list[str] | None = None) -> None:
    """Prune the versioned artefacts of an environment and print what it freed."""
    from kedro.framework.project import pipelines  # noqa: PLC0415
    from kedro.framework.session import KedroSession  # noqa: PLC0415
    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415
    from kedro.io import AbstractVersionedDataset  # noqa: PLC0415

    parser = argparse.ArgumentParser(
        prog="python -m facial_keypoints.tools.prune", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--env", default=None, help="Kedro environment (its data_root)")
    parser.add_argument("--keep", type=int, default=None, help="override retention.keep_versions")
    parser.add_argument("--dry-run", action="store_true", help="list, delete nothing")
    args = parser.parse_args(argv)
    bootstrap_project(Path.cwd())
    with KedroSession.create(project_path=Path.cwd(), env=args.env) as session:
        context = session.load_context()
        retention = check_block(context.config_loader["parameters"], "retention")
        catalog = context.catalog
        folders = {}
        for name in sorted(pipelines["__default__"].datasets()):
            dataset = None if name.startswith("params:") else catalog.get(name)
            if isinstance(dataset, AbstractVersionedDataset) and dataset._version is not None:
                if not getattr(dataset, "is_local", True):
                    sys.exit(
                        f"Error: {name} is on {dataset.location}: prune works on a local data_root. "
                        "On an object store, expire old versions with the store's lifecycle rules."
                    )
                folders[name] = Path(str(dataset._describe()["filepath"]))
    marked = set() if tracking.tracking_off() else marked_versions()
    result = prune(
        folders.values(),
        complete=versions(folders["combination"]),
        keep_versions=args.keep or retention.keep_versions,
        marked=marked,
        dry_run=args.dry_run,
    )
    verb = "Would delete" if args.dry_run else "Deleted"
    print(  # noqa: T201
        f"{verb} {len(result.removed)} versions ({result.freed_bytes / 2**20:.0f} MB) of "
        f"{len(folders)} versioned artefacts; kept {len(result.kept)} (the latest "
        f"{args.keep or retention.keep_versions} complete runs, {len(marked)} versions of runs "
        "tagged keep, and the latest of each)."
    )


if __name__ == "__main__":
    main()
