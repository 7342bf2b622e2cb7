"""Typed parameters: one pydantic model per block of ``conf/*/parameters_*.yml``.

Nodes declare these models as the type of their ``params:`` inputs, so Kedro validates and converts
the configuration before any node runs. The models hold constraints, never defaults: every value that
changes behaviour lives in conf/, with a comment. :func:`check_parameters` checks the whole parameter
tree up front (unknown blocks included) and turns the first mistake into one readable line.
"""

from __future__ import annotations

import warnings
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from facial_keypoints.domain import nested
from facial_keypoints.domain.errors import InputDataError
from facial_keypoints.domain.keypoints import IMAGE_SIZE, SPECIALIST_GROUPS

Fraction = Annotated[float, Field(ge=0, le=1)]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
SpecialistGroup = Literal[tuple(SPECIALIST_GROUPS)]  # type: ignore[valid-type]
Architecture = Literal["mlp", "tutorial_cnn", "report_cnn", "compact", "heatmap_cnn"]

#: Architectures renamed in 0.2, old name -> new: the old names work until the next release.
RENAMED_ARCHITECTURES = {"nouri": "tutorial_cnn", "seed": "report_cnn"}


class ParameterError(InputDataError):
    """A parameter has a value that is not allowed; the message names it and what is allowed."""


class Params(BaseModel):
    """A parameter block: unknown keys are mistakes, values are checked, models are read-only."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --- data_engineering -------------------------------------------------------------------------


class CleaningParams(Params):
    """``cleaning``: which training faces to keep."""

    strategy: Literal["keep_all", "drop_incomplete"]


class CVParams(Params):
    """``cv``: K-fold cross-validation (``folds`` > 1) or one seeded holdout (``folds`` = 1)."""

    folds: int = Field(ge=1, le=20)
    seed: int = Field(ge=0)
    validation_fraction: float = Field(gt=0, lt=1)
    duplicate_threshold: NonNegative
    groups: str | None


class FlipOption(Params):
    """Offline flip: one mirrored copy of every face."""

    enabled: bool


class AffineOption(Params):
    """Offline rotation/shift/scaling."""

    enabled: bool
    max_rotation_deg: NonNegative
    max_shift: NonNegative
    scale_range: tuple[Positive, Positive]


class BrightnessContrastOption(Params):
    """Offline brightness and contrast change."""

    enabled: bool
    max_brightness: Fraction
    max_contrast: Fraction


class ContrastStretchOption(Params):
    """Offline contrast stretching between two percentiles."""

    enabled: bool
    low_percentile: float = Field(ge=0, lt=100)
    high_percentile: float = Field(gt=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> ContrastStretchOption:
        if self.low_percentile >= self.high_percentile:
            raise ValueError("low_percentile must be below high_percentile")
        return self


class InverseBlurOption(Params):
    """Offline unsharp-mask sharpening."""

    enabled: bool
    sigma: Positive
    amount: NonNegative


class WienerOption(Params):
    """Offline adaptive Wiener filtering."""

    enabled: bool
    size: int = Field(ge=1)


class OfflineAugmentations(Params):
    """``augment.offline``: each enabled entry appends one transformed copy of the training faces."""

    flip: FlipOption
    affine: AffineOption
    brightness_contrast: BrightnessContrastOption
    contrast_stretch: ContrastStretchOption
    inverse_blur: InverseBlurOption
    wiener_3x3: WienerOption
    wiener_9x9: WienerOption


class AugmentParams(Params):
    """``augment``: the flip convention and the offline augmentations."""

    seed: int = Field(ge=0)
    mirror: Literal["auto"] | Annotated[float, Field(gt=0, lt=2 * IMAGE_SIZE)]
    estimate_faces: int = Field(ge=1)
    offline: OfflineAugmentations


# --- modelling --------------------------------------------------------------------------------


class OnlineAugmentParams(Params):
    """``training.augment``: random flip, rotation/scale/shift, relighting and cut-out of every batch."""

    flip_probability: Fraction
    max_rotation_deg: NonNegative
    max_shift: NonNegative
    scale_range: tuple[Positive, Positive]
    max_brightness: Fraction
    max_contrast: Fraction
    cutout_probability: Fraction
    cutout_size: int = Field(ge=1, le=96)


class TrainingParams(Params):
    """``training``: what the full model and the specialists share."""

    seed: int = Field(ge=0)
    verbose: Literal[0, 1, 2]
    checkpoint_dir: str
    validation_batch_size: int = Field(ge=1)
    precision: Literal["auto", "float32", "mixed_float16", "mixed_bfloat16"]
    distribution: Literal["auto", "off"]
    augment: OnlineAugmentParams


class OptimizerParams(Params):
    """An optimiser and its learning-rate schedule (``name`` picks which of the settings apply)."""

    name: Literal["sgd", "adam", "adamw"]
    learning_rate: Positive
    final_learning_rate: Positive
    momentum: float = Field(ge=0, lt=1)
    final_momentum: float = Field(ge=0, lt=1)
    nesterov: bool
    weight_decay: NonNegative
    warmup_fraction: float = Field(ge=0, lt=1)
    final_fraction: Fraction


class ModelTrainingParams(Params):
    """How one model trains: epochs, early stopping, batch size, faces, optimiser."""

    epochs: int = Field(ge=1)
    patience: int = Field(ge=0)
    batch_size: int = Field(ge=1)
    train_rows: Literal["any", "complete"]
    optimizer: OptimizerParams


class FullModelParams(ModelTrainingParams):
    """``full_model``: the CNN trained on all 30 coordinates."""

    architecture: Architecture

    @field_validator("architecture", mode="before")
    @classmethod
    def _renamed(cls, name: Any) -> Any:
        """An old architecture name as its new one, with a deprecation message."""
        return _new_name(name, "full_model.architecture")


class MlpOptions(Params):
    """Options of the ``mlp`` architecture."""

    hidden: int = Field(ge=1)


class TutorialCnnOptions(Params):
    """Options of the ``tutorial_cnn`` architecture."""

    dropout: tuple[Fraction, Fraction, Fraction, Fraction]


class ReportCnnOptions(Params):
    """Options of the ``report_cnn`` architecture."""

    dropout: Fraction


class CompactOptions(Params):
    """Options of the ``compact`` architecture."""

    filters: list[Annotated[int, Field(ge=1)]] = Field(min_length=1, max_length=6)
    convs_per_block: int = Field(ge=1)
    batch_norm: bool
    dense_units: int = Field(ge=1)
    dropout: Fraction


class HeatmapCnnOptions(Params):
    """Options of the ``heatmap_cnn`` architecture."""

    filters: tuple[
        Annotated[int, Field(ge=1)], Annotated[int, Field(ge=1)], Annotated[int, Field(ge=1)]
    ]
    dilations: list[Annotated[int, Field(ge=1)]] = Field(min_length=1, max_length=8)
    batch_norm: bool


class ArchitecturesParams(Params):
    """``architectures``: the options of every architecture; ``full_model.architecture`` picks one."""

    mlp: MlpOptions
    tutorial_cnn: TutorialCnnOptions
    report_cnn: ReportCnnOptions
    compact: CompactOptions
    heatmap_cnn: HeatmapCnnOptions

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, blocks: Any) -> Any:
        """Options under an old architecture name as its new one's, with a deprecation message."""
        if not isinstance(blocks, dict):
            return blocks
        return {_new_name(name, "architectures"): options for name, options in blocks.items()}

    def options(self, name: Architecture) -> dict[str, Any]:
        """The named architecture's options as keyword arguments."""
        return getattr(self, name).model_dump()


class SpecialistsParams(ModelTrainingParams):
    """``specialists``: settings shared by every specialist, which run, and per-group overrides."""

    enabled: list[SpecialistGroup]
    overrides: dict[SpecialistGroup, dict[str, Any]]

    @model_validator(mode="after")
    def _overrides_are_valid(self) -> SpecialistsParams:
        for group in self.overrides:
            try:
                self.for_group(group)
            except ValidationError as exc:  # each error located at the override that caused it
                raise ValidationError.from_exception_data(
                    type(self).__name__,
                    [
                        InitErrorDetails(
                            type=error["type"],
                            loc=("overrides", group, *error["loc"]),
                            input=error["input"],
                            ctx=error.get("ctx", {}),
                        )
                        for error in exc.errors()
                    ],
                ) from None
        return self

    def for_group(self, group: str) -> ModelTrainingParams:
        """The training settings of one group: the shared ones with its overrides on top."""
        shared = ModelTrainingParams.model_fields
        merged = nested.merged(self.model_dump(include=set(shared)), self.overrides.get(group, {}))
        return ModelTrainingParams.model_validate(merged)


class CombinationParams(Params):
    """``combination``: how the predictions of the full model and the specialists are stacked."""

    flip_tta: bool | Literal["auto"]
    shift_tta: int = Field(ge=0, le=8)
    prediction_batch_size: int = Field(ge=1)


class KaggleParams(Params):
    """``kaggle``: upload the submission at the end of the run."""

    submit: bool
    message: str


class ServingParams(Params):
    """``serving``: the registered model every training run logs, and what one request may hold."""

    model_name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    max_faces: int = Field(ge=1)
    promote_best: bool


# --- tune -------------------------------------------------------------------------------------

#: The blocks a trial's training reads, so the only ones a search may change (``cv`` is left out:
#: every trial is scored on the same folds).
SEARCHABLE = ("training", "full_model", "architectures", "specialists", "combination")


class NumberRange(Params):
    """A searched number in [``low``, ``high``]; a whole number if the parameter is one."""

    low: float
    high: float
    log: bool

    @model_validator(mode="after")
    def _ordered(self) -> NumberRange:
        if self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError(f"a log scale needs low > 0 (low is {self.low})")
        return self


class Choices(Params):
    """A searched parameter that takes one of ``choices``."""

    choices: list[Any] = Field(min_length=2)


_ENTRY_KEYS = {"low", "high", "log", "choices"}


def _is_entry(mapping: Any) -> bool:
    """Whether a mapping of a search space is one searched parameter (not a block of them)."""
    return bool(_ENTRY_KEYS & set(mapping))


def _entry_kind(entry: Any) -> str:
    chosen = isinstance(entry, Choices) or (isinstance(entry, dict) and "choices" in entry)
    return "choices" if chosen else "range"


#: A searched parameter: a range or choices, told apart by its keys (one error, not one per kind).
SearchSpaceEntry = Annotated[
    Annotated[NumberRange, Tag("range")] | Annotated[Choices, Tag("choices")],
    Discriminator(_entry_kind),
]
#: The discriminator's tags, left out of the location an error names.
_TAGS = ("range", "choices")


class SamplerParams(Params):
    """``tune.sampler``: how the next trial's values are picked."""

    name: Literal["tpe", "random"]
    seed: int | None = Field(ge=0)
    n_startup_trials: int = Field(ge=0)


class PrunerParams(Params):
    """``tune.pruner``: when a trial stops early, judged after each fold."""

    name: Literal["median", "none"]
    n_startup_trials: int = Field(ge=0)
    n_warmup_steps: int = Field(ge=0)


class TuneParams(Params):
    """``tune``: the Optuna study of the ``tune`` pipeline and its search space."""

    study_name: str = Field(min_length=1)
    storage: str = Field(pattern=r"^[a-z][a-z0-9+]*://")
    n_trials: int = Field(ge=1)
    timeout: Positive | None
    enqueue_base: bool
    heartbeat_seconds: int = Field(ge=1)
    retry_failed: int = Field(ge=0)
    sampler: SamplerParams
    pruner: PrunerParams
    space: dict[str, SearchSpaceEntry] = Field(min_length=1)

    @field_validator("space", mode="before")
    @classmethod
    def _by_name(cls, space: Any) -> Any:
        """The space as written in conf/ (nested like the parameters, so that ``--params`` can
        change one end of a range) by each searched parameter's dotted name."""
        return nested.flatten(space, leaf=_is_entry) if isinstance(space, dict) else space


class DaskParams(Params):
    """``dask``: the local cluster that ``kedro run --runner facial_keypoints.runners.DaskRunner``
    starts, and how long it waits for the scheduler that ``DASK_SCHEDULER_ADDRESS`` names."""

    n_workers: int = Field(ge=1)
    threads_per_worker: int = Field(ge=1)
    connect_timeout: Positive


class RetentionParams(Params):
    """``retention``: which versions of the versioned artefacts pruning keeps."""

    keep_versions: int = Field(ge=1)


def _new_name(name: Any, where: str) -> Any:
    """``name``, or its new name if it is an architecture renamed (with a deprecation message)."""
    if name not in RENAMED_ARCHITECTURES:
        return name
    new = RENAMED_ARCHITECTURES[name]
    warnings.warn(
        f"{where}: the architecture '{name}' is now called '{new}'; the old name stops working in "
        "the next release.",
        FutureWarning,
        stacklevel=2,
    )
    return new


#: Every top-level parameter block, by its key in conf/.
PARAMETERS: dict[str, type[Params]] = {
    "cleaning": CleaningParams,
    "cv": CVParams,
    "augment": AugmentParams,
    "training": TrainingParams,
    "full_model": FullModelParams,
    "architectures": ArchitecturesParams,
    "specialists": SpecialistsParams,
    "combination": CombinationParams,
    "kaggle": KaggleParams,
    "retention": RetentionParams,
    "serving": ServingParams,
    "tune": TuneParams,
    "dask": DaskParams,
}

_FIX = "Fix it in conf/ (parameters_*.yml) or in your --params."


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


_KINDS = {  # what a value of the wrong kind should have been, in a config file's words
    "float_parsing": "a number",
    "float_type": "a number",
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
}


def _plain(error: dict[str, Any]) -> str:
    """Pydantic's message in the words of this project's errors."""
    if error["type"] == "extra_forbidden":
        return "is not a known parameter (a typo?)"
    if error["type"] == "missing":
        return "is missing"
    if error["type"] in _KINDS:
        return _KINDS[error["type"]]
    return error["msg"].replace("Input should be ", "").replace("Value error, ", "")


def _describe(key: str, errors: list[dict[str, Any]]) -> str:
    """One line for the first failing value; the branches of a union (e.g. ``auto`` or a number)
    fail together and are listed as alternatives."""
    first = errors[0]
    loc = first["loc"]
    branches = [e for e in errors if e["loc"][:-1] == loc[:-1] and len(e["loc"]) == len(loc)]
    if len(branches) > 1:  # the last part of loc names the union branch, not a parameter
        loc, message = loc[:-1], "is not allowed: use " + " or ".join(_plain(e) for e in branches)
    elif first["type"] in ("extra_forbidden", "missing"):
        message = _plain(first)
    else:
        message = f"is not allowed: {_plain(first)}"
    shown = [part for part in loc if part not in _TAGS]  # a search space's names have dots
    where = ".".join(repr(part) if "." in str(part) else str(part) for part in (key, *shown))
    value = "" if first["type"] == "missing" else f" = {_shown(first['input'])}"
    return f"Parameter {where}{value} {message}. {_FIX}"


def check_parameters(raw: dict[str, Any]) -> dict[str, Params]:
    """Validate every parameter block; raise :class:`ParameterError` naming the first bad value."""
    unknown = sorted(set(raw) - set(PARAMETERS))
    if unknown:
        raise ParameterError(
            f"Parameter {unknown[0]!r} is not a parameter of this project (known: "
            f"{', '.join(PARAMETERS)}). Fix the name in conf/ or in your --params; a new block "
            "needs its model in PARAMETERS (src/facial_keypoints/domain/params.py)."
        )
    checked = {key: check_block(raw, key) for key in PARAMETERS}
    check_space(raw, checked["tune"])
    return checked


def check_space(raw: dict[str, Any], tune: TuneParams) -> None:
    """Raise :class:`ParameterError` unless every searched name is a parameter in ``raw`` and every
    value the search may give it (both ends of a range, every choice) is allowed."""
    for name, searched in tune.space.items():
        where = f"Parameter tune.space.{name!r}"
        if name.partition(".")[0] not in SEARCHABLE:
            raise ParameterError(
                f"{where} is not a parameter a trial trains with: search parameters of "
                f"{', '.join(SEARCHABLE)} (named as in --params). {_FIX}"
            )
        current: Any = raw
        for part in name.split("."):
            if not isinstance(current, dict) or part not in current:
                raise ParameterError(
                    f"{where} names no parameter of conf/ (a typo?). Use a name as in --params, "
                    f"e.g. full_model.optimizer.learning_rate. {_FIX}"
                )
            current = current[part]
        if isinstance(searched, NumberRange) and not _is_number(current):
            raise ParameterError(
                f"{where} has a range, but its value in conf/ is {_shown(current)}, not a number: "
                f"give it choices: [...] instead. {_FIX}"
            )
        block = name.partition(".")[0]
        ends = (
            searched.choices
            if isinstance(searched, Choices)
            else [whole_if(current, searched.low), whole_if(current, searched.high)]
        )
        for value in ends:
            try:
                check_block(nested.merged(raw, nested.unflatten({name: value})), block)
            except ParameterError as exc:
                raise ParameterError(f"{where}: the search may give it {value!r}. {exc}") from None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_whole(value: Any) -> bool:
    """Whether a parameter's value is a whole number (not a boolean): a range over it is too."""
    return isinstance(value, int) and not isinstance(value, bool)


def whole_if(current: Any, value: float) -> int | float:
    """``value`` as a whole number if the parameter's value in conf/ (``current``) is one."""
    return int(value) if is_whole(current) else value


def check_block(raw: dict[str, Any], key: str) -> Params:
    """Validate the parameter block ``key``; raise :class:`ParameterError` naming its first bad
    value."""
    if key not in raw:
        raise ParameterError(f"Parameter block {key!r} is missing. {_FIX}")
    try:
        return PARAMETERS[key].model_validate(raw[key])
    except ValidationError as exc:
        raise ParameterError(_describe(key, exc.errors())) from None
