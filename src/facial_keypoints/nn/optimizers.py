"""Optimisers and their schedules: SGD with rising momentum (the tutorial's), Adam/AdamW with cosine decay."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from facial_keypoints.domain.params import OptimizerParams


@keras.saving.register_keras_serializable(package="facial_keypoints")
class ScheduledMomentumSGD(keras.optimizers.SGD):
    """SGD (Nesterov by default) whose momentum rises linearly, as in Nouri's tutorial (0.9 -> 0.999)."""

    def __init__(
        self,
        learning_rate: Any,
        momentum: float,
        final_momentum: float,
        momentum_steps: int,
        nesterov: bool,
        **kwargs: Any,
    ) -> None:
        """Momentum goes from ``momentum`` to ``final_momentum`` over ``momentum_steps`` updates."""
        super().__init__(
            learning_rate=learning_rate, momentum=momentum, nesterov=nesterov, **kwargs
        )
        self.final_momentum = final_momentum
        self.momentum_steps = momentum_steps

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        """One SGD step with the momentum of the current iteration."""
        progress = ops.minimum(
            ops.cast(self.iterations, "float32") / float(self.momentum_steps), 1.0
        )
        momentum = ops.cast(
            self.momentum + (self.final_momentum - self.momentum) * progress, variable.dtype
        )
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        m = self.momentums[self._get_variable_index(variable)]
        self.assign(m, m * momentum - gradient * learning_rate)
        if self.nesterov:
            self.assign_add(variable, m * momentum - gradient * learning_rate)
        else:
            self.assign_add(variable, m)

    def get_config(self) -> dict[str, Any]:
        """Config for saving."""
        return {
            **super().get_config(),
            "final_momentum": self.final_momentum,
            "momentum_steps": self.momentum_steps,
        }


def make_optimizer(config: OptimizerParams, steps: int) -> keras.optimizers.Optimizer:
    """The optimiser named in ``config`` with its schedule over ``steps`` updates."""
    if config.name == "sgd":
        schedule = keras.optimizers.schedules.PolynomialDecay(
            config.learning_rate, steps, end_learning_rate=config.final_learning_rate, power=1.0
        )
        return ScheduledMomentumSGD(
            schedule,
            momentum=config.momentum,
            final_momentum=config.final_momentum,
            momentum_steps=steps,
            nesterov=config.nesterov,
        )
    warmup = int(config.warmup_fraction * steps)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0,
        max(steps - warmup, 1),
        alpha=config.final_fraction,
        warmup_target=config.learning_rate,
        warmup_steps=warmup,
    )
    if config.name == "adam":
        return keras.optimizers.Adam(schedule)
    return keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay)
