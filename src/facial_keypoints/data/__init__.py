"""The NumPy side of the kit, apart from Kedro and Keras: parsing, augmentation, flip convention, demo faces."""
