"""Parse and validate Kaggle's raw frames; every problem becomes one InputDataError naming file and rows.

Rows are counted from 1 at the first data row, so ``row N`` is line N+1 of the file (after the header).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence

import lazy_loader
import numpy as np

from facial_keypoints.domain.errors import InputDataError
from facial_keypoints.domain.keypoints import COLUMNS, IMAGE_SIZE, N_PIXELS

# pandas is imported on first use, not when Kedro loads the pipelines: `kedro` commands start fast.
pd = lazy_loader.load("pandas")

_MAX_LISTED = 5
_MAX_QUOTED = 80
_MAX_ID = 2**53  # larger ids do not survive pandas' float parsing exactly
_SENTINEL = 1000  # placed between rows so one fast parse also checks every row's length
_IMAGE_FIX = (
    f"Each Image must hold {N_PIXELS} space-separated integers 0-255 "
    f"({IMAGE_SIZE}x{IMAGE_SIZE} grayscale, row-major) as in Kaggle's files: "
    "fix or remove those rows, or download the file again."
)


def source_of(frame: pd.DataFrame, default: str) -> str:
    """The file a raw frame was read from (set by KaggleCSVDataset), else ``default``."""
    return str(frame.attrs.get("source", default))


def quote(value: object) -> str:
    """A cell's value as a message shows it (strings quoted), cut to a readable length: a shifted
    row can put a whole Image in any cell."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= _MAX_QUOTED else text[: _MAX_QUOTED - 3] + "..."


def _row(index: int) -> str:
    return f"row {index + 1} (line {index + 2})"


def _some(names: Sequence[str]) -> str:
    """The first few names as a list, and how many more there are."""
    more = len(names) - _MAX_LISTED
    return f"{list(names[:_MAX_LISTED])}{f' and {more} more' if more > 0 else ''}"


def _error(source: str, problems: Sequence[str], fix: str) -> InputDataError:
    listed = "; ".join(problems[:_MAX_LISTED])
    more = f"; and {len(problems) - _MAX_LISTED} more" if len(problems) > _MAX_LISTED else ""
    return InputDataError(f"{source} {listed}{more}. {fix}")


def require_columns(frame: pd.DataFrame, required: Iterable[str], source: str) -> None:
    """Fail unless every required column is present."""
    missing = [name for name in required if name not in frame.columns]
    if missing:
        raise InputDataError(
            f"{source}: missing column(s) {missing}; found {_some(list(frame.columns))}. "
            "Use Kaggle's file unchanged "
            "(training.csv: the 30 keypoint columns and Image; test.csv: ImageId and Image; "
            "IdLookupTable.csv: RowId, ImageId, FeatureName, Location)."
        )
    if frame.empty:
        raise InputDataError(f"{source} has a header but no rows. Download the file again.")


def _image_problems(texts: Sequence[str], label: Callable[[int], str]) -> list[str]:
    """Slow, row-by-row diagnosis of the Image strings (only runs once the fast parse failed)."""
    problems = []
    for index, text in enumerate(texts):
        tokens = text.split()
        if not tokens:
            problems.append(f"{label(index)}: Image is empty")
            continue
        bad = next((t for t in tokens if not t.removeprefix("-").isdigit()), None)
        if bad is not None:
            position = tokens.index(bad) + 1
            problems.append(
                f"{label(index)}: Image value {quote(bad)} (value {position}) is not an integer"
            )
        elif len(tokens) != N_PIXELS:
            problems.append(f"{label(index)}: Image has {len(tokens)} values, expected {N_PIXELS}")
        else:
            values = np.asarray(tokens, dtype=np.int64)
            outside = (values < 0) | (values > 255)  # noqa: PLR2004
            if outside.any():
                position = int(outside.argmax())
                problems.append(
                    f"{label(index)}: Image value {values[position]} (value {position + 1}) "
                    "is outside 0..255"
                )
    return problems


def parse_images(
    images: pd.Series, source: str, *, label: Callable[[int], str] = _row, fix: str = _IMAGE_FIX
) -> np.ndarray:
    """Parse a column of Kaggle Image strings into uint8 arrays of shape (N, 96, 96); a problem
    names each bad row by ``label(index)`` and ends with ``fix``."""
    texts = [text if isinstance(text, str) else "" for text in images.tolist()]  # NaN: empty cell
    # One vectorised parse of the whole column; a sentinel after every row makes a row with too
    # few or too many values, a non-numeric token or an out-of-range value show up at once.
    joined = f" {_SENTINEL} ".join(texts) + f" {_SENTINEL}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # older numpy warns on bad tokens
        try:
            values = np.fromstring(
                joined, dtype=np.int16, sep=" ", count=len(texts) * (N_PIXELS + 1)
            )
        except ValueError:  # newer numpy raises on a token that is not an integer
            values = np.empty(0, dtype=np.int16)
    if values.size == len(texts) * (N_PIXELS + 1):
        table = values.reshape(len(texts), N_PIXELS + 1)
        pixels = table[:, :N_PIXELS]
        if (table[:, N_PIXELS] == _SENTINEL).all() and pixels.min() >= 0 and pixels.max() <= 255:  # noqa: PLR2004
            return pixels.astype(np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    problems = _image_problems(texts, label) or ["Image column could not be parsed"]
    raise _error(source, problems, fix)


def parse_keypoints(frame: pd.DataFrame, source: str) -> np.ndarray:
    """The 30 keypoint columns as float32 (N, 30), NaN where missing; values must lie in [0, 96]."""
    raw = frame[list(COLUMNS)]
    values = raw.apply(pd.to_numeric, errors="coerce")
    non_numeric = values.isna() & raw.notna()
    outside = (values < 0) | (values > IMAGE_SIZE)
    problems = []
    for mask, what in (
        (non_numeric, "is not a number"),
        (outside, f"is outside [0, {IMAGE_SIZE}]"),
    ):
        for index, column in zip(*np.nonzero(mask.to_numpy()), strict=True):
            value = raw.iat[index, column]
            shown = quote(value) if isinstance(value, str) else f"{float(value):g}"
            problems.append(f"{_row(index)}: {COLUMNS[column]} = {shown} {what}")
    if problems:
        raise _error(
            source,
            problems,
            "Keypoints are pixel coordinates: numbers in [0, 96], or empty where unlabelled.",
        )
    return values.to_numpy(dtype=np.float32)


def _id_problems(column: pd.Series, name: str) -> tuple[pd.Series, list[str]]:
    """The column as numbers, and a problem for each value that is not a whole number in range."""
    numbers = pd.to_numeric(column, errors="coerce").astype("float64")
    problems = [
        f"{_row(i)}: {name} {quote(column.iat[i])} is not an integer"
        for i in np.flatnonzero(numbers.isna() | (numbers % 1 != 0))
    ]
    problems += [
        f"{_row(i)}: {name} {quote(column.iat[i])} is out of range (at most {_MAX_ID})"
        for i in np.flatnonzero(numbers.abs().to_numpy() > _MAX_ID)
    ]
    return numbers, problems


def require_labels(keypoints: np.ndarray, source: str) -> None:
    """Fail if a keypoint column has no value in any row: no model can learn it, and the submission
    asks for every column."""
    empty = [
        name for name, column in zip(COLUMNS, keypoints.T, strict=True) if np.isnan(column).all()
    ]
    if empty:
        raise InputDataError(
            f"{source}: column(s) {_some(empty)} have no value in any row, so no model can learn "
            "them and the submission cannot be filled. Use Kaggle's training.csv, or add rows "
            "labelled for those keypoints."
        )


def parse_image_ids(frame: pd.DataFrame, source: str) -> np.ndarray:
    """The ImageId column as int64; ids must be unique integers."""
    ids, bad = _id_problems(frame["ImageId"], "ImageId")
    if bad:
        raise _error(source, bad, "ImageIds are whole numbers, as in Kaggle's test.csv.")
    ids = ids.to_numpy(dtype=np.int64)
    duplicated = pd.Series(ids).duplicated(keep="first").to_numpy()
    if duplicated.any():
        first_seen = {value: i for i, value in reversed(list(enumerate(ids)))}
        problems = [
            f"{_row(i)}: ImageId {ids[i]} repeats {_row(first_seen[ids[i]])}"
            for i in np.flatnonzero(duplicated)
        ]
        raise _error(source, problems, "Each ImageId must appear once; remove the duplicate rows.")
    return ids


def check_lookup(lookup: pd.DataFrame, test_ids: np.ndarray, source: str) -> pd.DataFrame:
    """Check that every lookup row names a known feature of an existing test image."""
    require_columns(lookup, ("RowId", "ImageId", "FeatureName"), source)
    problems = []
    unknown_feature = ~lookup["FeatureName"].isin(COLUMNS)
    for i in np.flatnonzero(unknown_feature.to_numpy()):
        problems.append(
            f"{_row(i)}: FeatureName {quote(lookup['FeatureName'].iat[i])} is not one of the 30 "
            "keypoint columns"
        )
    image_ids, bad_ids = _id_problems(lookup["ImageId"], "ImageId")
    problems += bad_ids
    unknown_image = ~image_ids.isin(test_ids) & image_ids.notna() & (image_ids.abs() <= _MAX_ID)
    for i in np.flatnonzero(unknown_image.to_numpy()):
        problems.append(f"{_row(i)}: ImageId {quote(lookup['ImageId'].iat[i])} is not in test.csv")
    row_ids, bad_rows = _id_problems(lookup["RowId"], "RowId")
    problems += bad_rows
    for i in np.flatnonzero((row_ids.duplicated() & row_ids.notna()).to_numpy()):
        problems.append(f"{_row(i)}: RowId {quote(lookup['RowId'].iat[i])} is repeated")
    if problems:
        raise _error(
            source,
            problems,
            "Use Kaggle's IdLookupTable.csv with the test.csv it came with "
            f"(feature names: {', '.join(COLUMNS[:2])}, ..., {COLUMNS[-1]}).",
        )
    return pd.DataFrame(
        {
            "RowId": row_ids.astype(np.int64),
            "ImageId": image_ids.astype(np.int64),
            "FeatureName": lookup["FeatureName"].astype(str),
        }
    )


def parse_groups(frame: pd.DataFrame, rows: int, source: str) -> tuple[str, np.ndarray]:
    """The group column of a ``cv.groups`` file and each training row's group, in row order.

    Args:
        frame: the file as read, every cell a string: ``row`` (1-based row of training.csv) and
            one group column.
        rows: how many rows training.csv has.
        source: the file's path, for messages.

    Returns:
        The group column's name, and its values ordered by ``row`` (row 1 first).

    Raises:
        InputDataError: not one group column, or rows that do not match training.csv one to one.
    """
    fix = (
        "A cv.groups file has a `row` column (1-based row of training.csv) and one group column, "
        f"a row for each of training.csv's {rows} faces (ytf96: training_people.csv, column "
        "person); or set cv.groups=null."
    )
    others = [name for name in frame.columns if name != "row"]
    if "row" not in frame.columns or len(others) != 1:
        raise InputDataError(
            f"{source}: columns {_some(list(frame.columns))}, expected `row` and one group column. "
            + fix
        )
    numbers, problems = _id_problems(frame["row"], "row")
    problems += [
        f"{_row(i)}: row {numbers.iat[i]:.0f} is not a row of training.csv (1 to {rows})"
        for i in np.flatnonzero((numbers < 1) | (numbers > rows))
    ]
    problems += [
        f"{_row(i)}: no {others[0]}" for i in np.flatnonzero(frame[others[0]].isna().to_numpy())
    ]
    if problems:
        raise _error(source, problems, fix)
    numbers = numbers.to_numpy(dtype=np.int64)
    values, counts = np.unique(numbers, return_counts=True)
    repeated = values[counts > 1]
    missing = np.setdiff1d(np.arange(1, rows + 1), values)
    if len(repeated) or len(missing):  # every row in 1..rows: then the count is right too
        found = [f"{len(frame)} rows for training.csv's {rows}"]
        found += [f"row(s) {_some(repeated.tolist())} repeated"] if len(repeated) else []
        found += [f"row(s) {_some(missing.tolist())} missing"] if len(missing) else []
        raise InputDataError(f"{source} does not match training.csv: {', '.join(found)}. {fix}")
    return others[0], frame[others[0]].to_numpy(dtype=object)[np.argsort(numbers)]
