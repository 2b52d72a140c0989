# Two commands on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8080
STAMP := $(VENV)/.installed
# apache-beam cannot share the serving lock (it needs protobuf<7): its own venv, made once.
BEAM_VENV ?= .venv-beam
BEAM_BIN := $(BEAM_VENV)/bin
BEAM_STAMP := $(BEAM_VENV)/.installed

.PHONY: install install-beam serve test lint train lock bench bench-batch load clean deploy

$(STAMP): requirements/dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

install: $(STAMP) ## Create .venv from the lock

$(BEAM_STAMP): requirements/beam.txt pyproject.toml
	$(PYTHON) -m venv $(BEAM_VENV)
	$(BEAM_BIN)/python -m pip install --quiet -r requirements/beam.txt
	$(BEAM_BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

install-beam: $(BEAM_STAMP) ## Create .venv-beam (serving lock + apache-beam) for irisserve.batch

serve: $(STAMP) ## Serve the bundled model on http://127.0.0.1:$(PORT)
	$(BIN)/functions-framework --target predict --source functions/predict/main.py --port $(PORT)

test: $(STAMP) $(BEAM_STAMP) ## Install and run the whole suite (tests/test_batch* in .venv-beam)
	$(BEAM_BIN)/python -m pytest tests/test_batch*.py
	$(BIN)/python -m pytest

lint: $(STAMP) ## ruff and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

train: $(STAMP) ## Retrain the bundled Iris artifact
	$(BIN)/python -m training.train --output src/irisserve/artifacts/iris

lock: $(STAMP) ## Re-resolve the locks (serve first; dev is constrained by it)
	$(BIN)/uv pip compile pyproject.toml --extra pubsub --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --no-header -o requirements/serve.txt
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --no-header -c requirements/serve.txt \
		-o requirements/dev.txt
	grep -v '^protobuf==' requirements/serve.txt > $(VENV)/beam-constraints.txt
	$(BIN)/uv pip compile pyproject.toml --extra beam --group beam-tools --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --no-header -c $(VENV)/beam-constraints.txt \
		-o requirements/beam.txt

clean:
	rm -rf $(VENV) $(BEAM_VENV) .pytest_cache .mypy_cache .ruff_cache build dist

bench: $(STAMP) ## Cold start vs warm harness (bench/results/)
	$(BIN)/python -m bench.harness $(BENCH_ARGS)

bench-batch: $(BEAM_STAMP) ## 1,000,000 JSONL rows through Beam vs a plain loop (bench/results/)
	$(BEAM_BIN)/python -m bench.batch $(BENCH_BATCH_ARGS)

load: $(STAMP) ## Bounded 60 s load test against a real process
	$(BIN)/python -m bench.load $(LOAD_ARGS)

deploy: $(STAMP) ## Stage and deploy with gcloud: make deploy ARGS="--project P [--dry-run]"
	./deploy.sh $(ARGS)
