"""The NumPy side of the kit, apart from Kedro and Keras: parsing, offline augmentation, the flip
convention, folds, demo faces, and the stacked combination of the models' predictions."""
