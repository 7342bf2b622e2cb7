"""Command lines on top of the kit (``python -m facial_keypoints.tools.<name>``): demo faces, TFLite
export, the benchmark, and Kaggle's download and upload. Nothing imports them, except the Kaggle
client (:mod:`.kaggle_client`), which the submission's upload and the parameter check use too."""
