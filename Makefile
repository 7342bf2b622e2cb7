# Two commands get a stranger going: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RAW := data/01_raw
# Kaggle's files in data/01_raw -> run on them; otherwise on generated demo faces.
ENV_ARG := $(if $(wildcard $(RAW)/training.zip $(RAW)/training.csv),,--env demo)

.PHONY: install run test lint benchmark clean-demo

$(BIN)/kedro: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[dev]"
	touch $(BIN)/kedro

install: $(BIN)/kedro

run: install
	$(BIN)/kedro run $(ENV_ARG)

# The whole suite under TensorFlow, then the Keras library and the in-memory pipeline runs again
# under JAX, the gpu profile's backend (tests/end_to_end runs `kedro run --env gpu` under JAX too).
# One test worker per core; tests sharing an expensive fixture run on one worker (xdist_group).
PYTEST := $(BIN)/python -m pytest -n auto --dist loadgroup
test: install
	$(PYTEST)
	KERAS_BACKEND=jax $(PYTEST) tests/nn tests/pipelines

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/lint-imports

benchmark: install
	$(BIN)/python -m facial_keypoints.tools.benchmark --data $(RAW)

clean-demo:
	rm -rf data/demo
