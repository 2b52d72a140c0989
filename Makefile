# Two commands on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8080
# Loopback only: a development server answers anyone who can reach it, with no auth.
# HOST=0.0.0.0 to reach it from another machine or a container's host.
HOST ?= 127.0.0.1
STAMP := $(VENV)/.installed
# apache-beam cannot share the serving lock (it needs protobuf<7): its own venv, made once.
BEAM_VENV ?= .venv-beam
BEAM_BIN := $(BEAM_VENV)/bin
BEAM_STAMP := $(BEAM_VENV)/.installed

.PHONY: install install-beam serve test screenshot lint train lock bench bench-batch \
	bench-peers bench-scorers bench-explain load capacity clean deploy

# $(call make-venv,DIR,LOCK): a venv in DIR from the lock LOCK, this package installed editable.
define make-venv
	@echo "Installing $(1) from $(2) (a few minutes the first time)..."
	$(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --progress-bar off -r $(2)
	$(1)/bin/python -m pip install --quiet --no-deps -e .
	touch $@
endef

$(STAMP): requirements/dev.txt pyproject.toml
	$(call make-venv,$(VENV),requirements/dev.txt)

install: $(STAMP) ## Create .venv from the lock

$(BEAM_STAMP): requirements/beam.txt pyproject.toml
	$(call make-venv,$(BEAM_VENV),requirements/beam.txt)

install-beam: $(BEAM_STAMP) ## Create .venv-beam (serving lock + apache-beam) for irisserve.batch

serve: $(STAMP) ## Serve the bundled model on http://$(HOST):$(PORT)
	$(BIN)/functions-framework --target predict --source functions/predict/main.py \
		--host $(HOST) --port $(PORT)

test: $(STAMP) $(BEAM_STAMP) ## The whole suite with branch coverage (tests/unit/batch in .venv-beam)
	@for tool in gcloud java; do command -v $$tool >/dev/null || echo "make test: no $$tool on \
	PATH: the tests that need it are skipped here (CI fails them); see the README's Quick start"; done
	$(BEAM_BIN)/python -m pytest --cov --cov-report= --cov-fail-under=0 tests/unit/batch
	$(BIN)/python -m pytest --cov --cov-append

screenshot: $(STAMP) ## Retake docs/img/api-page.png in headless Chromium
	UPDATE_SCREENSHOT=1 $(BIN)/python -m pytest -q -p no:cacheprovider --no-cov \
		tests/integration/test_api_page_browser.py -k try_it_out

lint: $(STAMP) ## ruff and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

TRAIN_OUTPUT ?= build/artifacts/iris
train: $(STAMP) ## Retrain Iris into $(TRAIN_OUTPUT) and check it reproduces the bundled artifact
	$(BIN)/python -m training.train --output $(TRAIN_OUTPUT) --compare src/irisserve/artifacts/iris

lock: $(STAMP) ## Re-resolve the locks (serve first; dev is constrained by it; then the V2 clients')
	$(BIN)/uv pip compile pyproject.toml --extra pubsub --extra gcs --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --no-header -o requirements/serve.txt
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --no-header -c requirements/serve.txt \
		-o requirements/dev.txt
	for client in requirements/clients/*.in; do \
		$(BIN)/uv pip compile $$client --python-version 3.11 \
			--python-platform x86_64-manylinux_2_28 --no-header -o $${client%.in}.txt; \
	done
	grep -v '^protobuf==' requirements/serve.txt > $(VENV)/beam-constraints.txt
	$(BIN)/uv pip compile pyproject.toml --extra beam --group beam-tools --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --no-header -c $(VENV)/beam-constraints.txt \
		-o requirements/beam.txt

clean:
	rm -rf $(VENV) $(BEAM_VENV) .venv-clients $(PEERS_VENV) .pytest_cache .mypy_cache .ruff_cache \
		.coverage build dist

bench: $(STAMP) ## Cold start vs warm harness (bench/results/)
	$(BIN)/python -m bench.harness $(BENCH_ARGS)

bench-batch: $(BEAM_STAMP) ## 1,000,000 JSONL rows: the batch command vs a plain script and Beam's sklearn handler
	$(BEAM_BIN)/python -m bench.batch $(BENCH_BATCH_ARGS)

# MLServer (the peer in make bench-peers) gets a venv of its own: never the project's.
PEERS_VENV := bench/.venv-peers
PEERS_STAMP := $(PEERS_VENV)/.installed
$(PEERS_STAMP): bench/peers.txt
	@echo "Installing $(PEERS_VENV) from bench/peers.txt (MLServer; a few minutes the first time)..."
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install --progress-bar off -r bench/peers.txt
	touch $@

bench-peers: $(STAMP) $(PEERS_STAMP) ## irisserve beside MLServer, same requests (bench/results/peers.*)
	$(BIN)/python -m bench.peers $(BENCH_ARGS)

bench-scorers: $(STAMP) ## Pickle-free scorers vs scikit-learn per family: in-process, then served beside the floor (bench/results/scorers.*)
	$(BIN)/python -m bench.scorers $(SCORERS_ARGS)
	$(BIN)/python -m bench.served $(SERVED_ARGS)

bench-explain: $(STAMP) ## 1,000-row explain of a 100-tree forest beside shap; cold first /explain vs the floor (bench/results/explain.json)
	$(BIN)/python -m bench.explain $(EXPLAIN_ARGS)

load: $(STAMP) ## Bounded 60 s load test against a real process (needs wrk)
	$(BIN)/python -m bench.load $(LOAD_ARGS)

capacity: $(STAMP) ## Instances, p99 and cost at 0.01-10,000 req/s, simulated from bench/results/latest.json
	$(BIN)/python -m capacity.report $(CAPACITY_ARGS)

deploy: $(STAMP) ## Stage and deploy with gcloud: make deploy ARGS="--project P [--dry-run]"
	./deploy.sh $(ARGS)
