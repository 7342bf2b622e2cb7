"""A specialist starts as an exact copy of the full model whose head predicts only its group's columns."""

from __future__ import annotations

import keras

from facial_keypoints.nn.layers import HEAD, SCALE


def specialist_from(full_model: keras.Model, columns: list[int], name: str) -> keras.Model:
    """A copy of the full model whose head predicts only ``columns``, starting from its weights."""
    config = full_model.get_config()
    for layer in config["layers"]:
        if layer["class_name"] == "Dense" and layer["config"]["name"] == HEAD:
            layer["config"]["units"] = len(columns)
        if layer["config"]["name"] == SCALE:
            layer["config"]["mean"] = [layer["config"]["mean"][c] for c in columns]
            layer["config"]["std"] = [layer["config"]["std"][c] for c in columns]
    config["name"] = name
    specialist = keras.Model.from_config(config)
    for source, target in zip(full_model.layers, specialist.layers, strict=True):
        weights = source.get_weights()
        if source.name == HEAD:
            weights = [weights[0][:, columns], weights[1][columns]]
        target.set_weights(weights)
    return specialist
