"""Hyperparameter search with Optuna: the study every worker shares, the values of each trial,
the MLflow run of each trial, and what a user acts on after a study (best values, plots).

It knows Optuna and MLflow, not Kedro or Keras: the ``tune`` pipeline's node trains each trial with
the modelling pipeline and hands this package the fold scores.
"""
