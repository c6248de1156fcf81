# cuisineflow: `make run` runs the main job, `make test` runs the tests.
# Both set up .venv from the lock file first (uv.lock, installed by a pinned uv).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
SOURCE ?= $(CUISINEFLOW_SOURCE)

.DEFAULT_GOAL := help
.PHONY: help setup run test lint format typecheck check clean bench-query bench-train bench-trees bench-contention bench-blend bench-curve bench-serve bench-monitor bench-predict bench-startup

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'
	@echo "  (make run SOURCE=path/to/whats-cooking, or set CUISINEFLOW_SOURCE)"

setup: $(VENV)/.synced ## Create .venv with the locked dependencies (fast when done)

$(VENV)/.synced: uv.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv sync --locked --quiet --python $(BIN)/python
	@touch $@

run: setup ## The main job: raw data to a registered, evaluated model and its report
	$(BIN)/cuisineflow run $(if $(SOURCE),--source "$(SOURCE)")

test: setup ## Run the tests
	$(BIN)/pytest

lint: setup ## ruff lint and format check; import contracts (DESIGN.md's dependency direction)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports

format: setup ## Format the code with ruff
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

typecheck: setup ## mypy (strict) on src/ and benchmarks/
	$(BIN)/mypy

check: lint typecheck test ## Lint, type-check and test

bench-query: setup ## Benchmark SQL in place: lake vs S3 Select vs download (needs SOURCE)
	$(BIN)/python benchmarks/query.py $(if $(SOURCE),--source "$(SOURCE)")

bench-train: setup ## Benchmark the models of params.yaml (after make run)
	$(BIN)/python benchmarks/train.py

bench-trees: setup ## Serving trees in numpy vs LightGBM's predictor (after make run; SOURCE)
	$(BIN)/python benchmarks/trees.py $(if $(SOURCE),--source "$(SOURCE)")

bench-contention: setup ## Fitting the trees beside a busy core, by OpenMP spin count (after make run)
	$(BIN)/python benchmarks/trees_contention.py $(if $(REPEAT),--repeat $(REPEAT))

bench-blend: setup ## The trees' gain over the linear model, FOLDS-fold CV (5; after make run)
	$(BIN)/python benchmarks/blend.py --folds $(or $(FOLDS),5)

bench-curve: setup ## Accuracy of the default model against training recipes, and the refit's gain (after make run)
	$(BIN)/python benchmarks/learning_curve.py

bench-serve: setup ## Benchmark serving vs MLflow, and Lambda (after make run; needs wrk)
	$(BIN)/uv sync --locked --quiet --group bench
	$(BIN)/python benchmarks/serve.py --model models/cuisine; status=$$?; \
	  $(BIN)/uv sync --locked --quiet; exit $$status  # MLflow leaves .venv either way

bench-startup: setup ## Each stage's import time with and without the installed bytecode
	$(BIN)/python benchmarks/startup.py $(if $(REPEAT),--repeat $(REPEAT))

bench-predict: setup ## Batch prediction of 9,944 recipes, end to end (after make run; SOURCE, BASELINE=REV)
	$(BIN)/python benchmarks/predict.py $(if $(SOURCE),--source "$(SOURCE)") $(if $(BASELINE),--baseline "$(BASELINE)")

bench-monitor: setup ## Benchmark monitoring 100,000 predictions; false-alarm rate (after make run)
	$(BIN)/python benchmarks/monitor.py $(if $(SOURCE),--source "$(SOURCE)")

clean: ## Remove the virtual environment and caches (not the store or data)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
