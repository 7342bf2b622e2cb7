"""Every parameter block checked as soon as the configuration is loaded, before any node runs."""

from __future__ import annotations

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl

from facial_keypoints.domain import kaggle_client
from facial_keypoints.domain.params import Params, check_parameters


class ParameterCheckHook:
    """Every parameter block checked as soon as the configuration is loaded, before any node runs;
    with ``kaggle.submit`` on, the kaggle package and credentials too (not after a whole run)."""

    def __init__(self) -> None:
        """No parameters until a context is created."""
        self.parameters: dict[str, Params] = {}

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        """Raise one clear error for the first parameter that is not allowed."""
        params = self.parameters = check_parameters(context.config_loader["parameters"])
        if params["kaggle"].submit:
            try:
                kaggle_client.check_ready()
            except kaggle_client.KaggleUnavailable as exc:
                raise kaggle_client.KaggleUnavailable(
                    f"kaggle.submit is true, but {exc} Or run without --params kaggle.submit=true."
                ) from None
