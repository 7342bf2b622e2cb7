"""facial-keypoints: Kaggle's Facial Keypoints Detection, from raw files to submission, with Kedro."""

__version__ = "0.1"
