"""Command lines on top of the kit (``python -m facial_keypoints.tools.<name>``): demo faces, TFLite
export, the benchmark, and Kaggle's download and upload (the client itself is
:mod:`facial_keypoints.domain.kaggle_client`, which the submission's upload uses too). Nothing
imports them."""
