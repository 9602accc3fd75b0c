# One entry point for people and CI. `make help` lists the targets.
# Every target that needs Python first makes the environment (scripts/python-env.sh),
# so a fresh clone on a fresh machine needs nothing but `make test`.

SHELL := /bin/bash
PY := .venv/bin/python
RINGRIFT := .venv/bin/ringrift
PYTEST_ARGS ?=
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help env lock test test-unit test-integration test-deploy deploy-tools deploy-generate \
        deploy-check lint proto topics kafka-up kafka-down db-up db-down migrate run \
        bench-events bench-rules bench-learn bench-selfplay-service bench-train bench-trainer \
        bench-gate bench-exporter bench-pipeline clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

env: ## make the Python environment (.venv, dependencies cached under ~/.cache/ringrift)
	@scripts/python-env.sh

lock: ## re-resolve requirements.in into requirements.lock
	@python3 -m venv /tmp/ringrift-lock && /tmp/ringrift-lock/bin/pip install -q -r requirements.in \
	  && /tmp/ringrift-lock/bin/pip freeze --all --exclude-editable | grep -v '^pip==' > requirements.lock && rm -rf /tmp/ringrift-lock

DEPLOY_TESTS := tests/unit/deploy tests/integration/deploy

test: env lint db-up test-deploy ## lint, the deploy checks, then every other test: unit, integration (real Kafka + PostgreSQL + S3), conformance
	DATABASE_URL=$$($(RINGRIFT) infra postgres url) $(PY) -m pytest \
	  $(addprefix --ignore=,$(DEPLOY_TESTS)) $(PYTEST_ARGS)

test-deploy: env deploy-tools ## the deploy checks: overlays, schemas, dry run on a real kube-apiserver, compose, Prometheus, Grafana
	$(PY) -m pytest $(DEPLOY_TESTS) $(PYTEST_ARGS)

deploy-tools: env ## install or build the deploy checks' tools once (cached in ~/.cache/ringrift/tools; ~15 min the first time)
	$(RINGRIFT) deploy tools

deploy-generate: env ## rewrite the deploy files generated from the registries (KafkaTopics, workloads, ...)
	$(RINGRIFT) deploy generate

deploy-check: env ## render every overlay, schema-check it and dry-run it on a local kube-apiserver
	$(RINGRIFT) deploy check --server

test-unit: env ## run the tests that start no process
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

test-integration: env db-up ## run the tests against a real Kafka broker and PostgreSQL
	DATABASE_URL=$$($(RINGRIFT) infra postgres url) $(PY) -m pytest tests/integration $(PYTEST_ARGS)

lint: env ## ruff over the sources
	$(PY) -m ruff check libs services tests benchmarks

kafka-up: env ## start a local Kafka broker (KRaft, loopback) in the background
	$(RINGRIFT) infra kafka start

kafka-down: env ## stop the local Kafka broker
	$(RINGRIFT) infra kafka stop

proto: env ## regenerate libs/ringrift/events/gen/ from proto/ (protoc from grpcio-tools)
	$(PY) -m ringrift.events.codegen

topics: env ## create the registry's topics (+ .dlq twins) on $KAFKA_BOOTSTRAP_SERVERS; idempotent
	$(RINGRIFT) events topics create

bench-events: env ## Kafka backbone: publish-to-handle latency p50/p99, 1 KB throughput (local broker)
	$(PY) benchmarks/bench_events.py

bench-rules: env ## rules engine: random-playout moves/s, games/s, game length, legal moves per board (one core)
	$(PY) benchmarks/bench_rules.py $(BENCH_ARGS)

run: env ## the pipeline on this machine: broker, every service, live view (square8 2p; resumes; ARGS=...)
	$(RINGRIFT) up $(ARGS)

bench-learn: env ## self-play positions/s with Gumbel search + network in lockstep (BENCH_ARGS=...)
	$(PY) benchmarks/bench_selfplay.py $(BENCH_ARGS)

bench-selfplay-service: env ## the selfplay service's positions/s vs bench-learn's, same games and budget (BENCH_ARGS=...)
	$(PY) benchmarks/bench_selfplay_service.py $(BENCH_ARGS)

bench-train: env ## trainer samples/s and peak RSS over windows of 1x and 10x the size (CPU, square8; BENCH_ARGS=...)
	$(PY) benchmarks/bench_train.py $(BENCH_ARGS)

bench-trainer: env ## trainer service: trigger latency shard published -> training start p50/p99, preparation (local broker; BENCH_ARGS=--runs N)
	$(PY) benchmarks/bench_trainer.py $(BENCH_ARGS)

bench-gate: env ## the promotion gate's pass probability and games to a decision per Elo, simulated (BENCH_ARGS=...)
	$(PY) benchmarks/bench_gate.py $(BENCH_ARGS)

bench-pipeline: env ## every service, tiny budgets: trigger and stage latency per stage, p50/p99; game end -> first candidate (BENCH_ARGS=...)
	$(PY) benchmarks/bench_pipeline.py $(BENCH_ARGS)

bench-exporter: env ## exporter: ingest games/s of the service from a backlog, its split, shard building games/s (BENCH_ARGS=...)
	$(PY) benchmarks/bench_exporter.py $(BENCH_ARGS)

db-up: env ## start a local PostgreSQL server (installs it from Debian's packages if missing)
	$(RINGRIFT) infra postgres start

db-down: env ## stop the local PostgreSQL server
	$(RINGRIFT) infra postgres stop

migrate: env ## migrate the database at DATABASE_URL (default: SQLite var/ringrift.db) to the newest schema
	$(RINGRIFT) db upgrade

clean: ## remove the clone's venv and local state (the dependency cache stays)
	rm -rf .venv var .pytest_cache
