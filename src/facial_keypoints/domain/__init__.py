"""The domain's small leaves, imported by every other layer and importing nothing of the kit's:
the vocabulary (30 columns, flip pairs, specialist groups), keypoint geometry, the faces dict and
Kaggle's metric, typed parameters, user errors, nested values flattened, and atomic file writing."""
