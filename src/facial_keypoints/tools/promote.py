"""Move the alias ``@best`` of the registered model (``serving.model_name``) to a version.

    python -m facial_keypoints.tools.promote [--env demo] [--version N]

Without ``--version``: to the version with the lowest estimate (the out-of-fold RMSE of its
combination) among those trained on the same training file with the same folds grouping as the
latest version; estimates on other data, or validated otherwise, are not comparable. Then
``mlflow models serve -m models:/facial_keypoints@best`` serves it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from facial_keypoints.domain.params import check_block


def main(argv: list[str] | None = None) -> None:
    """Point ``@best`` at the best comparable version, or at the one asked for."""
    from kedro.framework.session import KedroSession  # noqa: PLC0415
    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415

    parser = argparse.ArgumentParser(
        prog="python -m facial_keypoints.tools.promote", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--env", default=None, help="Kedro environment (its mlflow.yml store)")
    parser.add_argument("--version", default=None, help="this version, whatever its estimate")
    args = parser.parse_args(argv)
    bootstrap_project(Path.cwd())
    with KedroSession.create(project_path=Path.cwd(), env=args.env) as session:
        context = session.load_context()  # sets MLflow's store up, as a run does
        name = check_block(context.config_loader["parameters"], "serving").model_name
    import mlflow  # noqa: PLC0415

    from facial_keypoints.serving import model as served  # noqa: PLC0415

    client = mlflow.MlflowClient()
    versions = {
        str(version.version): version
        for version in client.search_model_versions(f"name = '{name}'", max_results=10000)
    }
    if not versions:
        sys.exit(
            f"Error: no model is registered as {name!r} in {mlflow.get_tracking_uri()}: a tracked "
            "training run (kedro run) registers one."
        )
    if args.version is not None and args.version not in versions:
        sys.exit(
            f"Error: {name!r} has no version {args.version} (it has {', '.join(sorted(versions, key=int))})."
        )
    chosen = versions.get(args.version) or served.best_version(
        name, versions[max(versions, key=int)].tags.get(served.BASIS_TAG, "")
    )
    if chosen is None:
        sys.exit(f"Error: the latest version of {name!r} has no estimate: use --version N.")
    served.move_alias(name, chosen.version)
    print(  # noqa: T201
        f"models:/{name}@{served.BEST} is version {chosen.version} (estimate "
        f"{chosen.tags.get(served.RMSE_TAG, '?')} px; {chosen.tags.get(served.BASIS_TAG, '?')})"
    )


if __name__ == "__main__":
    main()
