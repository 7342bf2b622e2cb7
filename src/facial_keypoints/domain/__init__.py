"""The domain's small leaves, imported by every other layer and importing nothing of the kit's
above them: the vocabulary (30 columns, flip pairs, specialist groups), keypoint geometry, the faces
dict and Kaggle's metric, typed parameters, user errors, nested values flattened, atomic file
writing, and the Kaggle client (download and upload through the optional ``kaggle`` package)."""
