# Footprint: the two commands of the README, and the steps they are made of.
#   make run    the platform with demo data on the embedded defaults (SQLite, filesystem broker)
#   make test   the whole test suite (needs the services that .ci/services.sh installs);
#               PYTEST_ARGS="tests/jobs -x" narrows it; FOOTPRINT_KEEP_TEST_TMP=1 keeps its files

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME_IMAGE ?= footprint/runtime:1
PUBLIC_BASE_IMAGE ?= python:3.11-slim-bookworm
OFFLINE_BASE_IMAGE ?= footprint/base:bookworm
WHEELS := .cache/wheels
EXAMPLES_OUT := var/examples

.PHONY: run test test-deploy deploy-images venv images examples lint lint-imports clean-var api-schema

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-test.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Footprint needs Python 3.11, found " + sys.version' 
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-test.txt
	@# The `footprint` command (footprint.cli), editable: it runs this checkout's client.
	$(VENV)/bin/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

# The runtime image's base: the public Python image when it is here or can be pulled,
# else a Debian base built locally with debootstrap (no registry reachable).
images: venv
	@base=$(PUBLIC_BASE_IMAGE); \
	if ! docker image inspect $$base >/dev/null 2>&1 && ! timeout 60 docker pull -q $$base >/dev/null 2>&1; then \
	  echo "no public base image reachable; using the offline base $(OFFLINE_BASE_IMAGE)"; \
	  docker/base/build.sh $(OFFLINE_BASE_IMAGE) && base=$(OFFLINE_BASE_IMAGE); \
	fi; \
	$(PY) -m runners.images runtime --tag $(RUNTIME_IMAGE) --base-image $$base --wheels $(WHEELS)

examples: images
	examples/build.sh $(RUNTIME_IMAGE) $(EXAMPLES_OUT)

PORT ?= 8000
run: export DJANGO_DEBUG ?= 1
run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@if docker info >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory examples && $(PY) manage.py seed_demo --examples $(EXAMPLES_OUT); \
	else \
	  echo "No Docker engine answers: the site serves, runs stay queued (see /runners/)."; \
	fi
	@# Jobs name the runtime by its image id: a tag re-pointed later changes nothing (docs/security.md).
	@runtime=$$(docker image inspect --format '{{.Id}}' $(RUNTIME_IMAGE) 2>/dev/null || echo $(RUNTIME_IMAGE)); \
	FOOTPRINT_RUNTIME_IMAGE=$${FOOTPRINT_RUNTIME_IMAGE:-$$runtime} $(PY) manage.py run_local --port $(PORT)

# The suite runs on the deployment's services (see .ci/services.sh); the embedded defaults
# are exercised by their own tests.
test: export DATABASE_URL ?= postgresql://footprint:footprint@127.0.0.1:5432/footprint
test: export FOOTPRINT_TEST_AMQP_URL ?= amqp://guest:guest@127.0.0.1:5672//
test: export FOOTPRINT_TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
test: export DJANGO_SECRET_KEY ?= test-only-secret-key-not-for-deployment-0123456789abcdef
# Schemathesis (tests/api/test_schema_conformance.py): examples per API operation and caller.
test: export FOOTPRINT_SCHEMATHESIS_EXAMPLES ?= 25
test: venv
	@$(PY) -c 'import os,socket,urllib.parse as u; p=u.urlparse(os.environ["DATABASE_URL"]); socket.create_connection((p.hostname, p.port or 5432), 2)' 2>/dev/null || { \
	  echo "PostgreSQL does not answer at $$DATABASE_URL; as root, run: bash .ci/services.sh" >&2; exit 1; }
	$(MAKE) --no-print-directory lint-imports
	@tmp=$$(mktemp -d /tmp/footprint-test.XXXXXX); mkdir "$$tmp/tmp"; \
	TMPDIR=$$tmp/tmp $(VENV)/bin/pytest --basetemp=$$tmp/pytest $(PYTEST_ARGS); status=$$?; \
	if [ -n "$$FOOTPRINT_KEEP_TEST_TMP" ]; then echo "the tests' files are kept in $$tmp"; else rm -rf "$$tmp"; fi; \
	exit $$status

# The compose deployment (docker/compose.yaml), for real, on the engine DOCKER_HOST names: built
# offline, brought up, used through the web and a second runner, restarted, backed up and
# restored (tests/deploy). Needs docker-compose (Debian's 1.29 or v2) and root (runners).
test-deploy: export DATABASE_URL ?= postgresql://footprint:footprint@127.0.0.1:5432/footprint
test-deploy: export DJANGO_SECRET_KEY ?= test-only-secret-key-not-for-deployment-0123456789abcdef
test-deploy: venv
	@command -v docker-compose >/dev/null || { echo "docker-compose is missing: apt-get install -y docker-compose" >&2; exit 1; }
	@tmp=$$(mktemp -d /tmp/footprint-test.XXXXXX); mkdir "$$tmp/tmp"; \
	FOOTPRINT_TEST_DEPLOY=1 TMPDIR=$$tmp/tmp $(VENV)/bin/pytest --basetemp=$$tmp/pytest -s tests/deploy $(PYTEST_ARGS); status=$$?; \
	rm -rf "$$tmp"; exit $$status

# Every image of a deployment, built on this host's engine without a registry where none is
# reachable; the runtime's id is written into docker/.env (docs/operator.md).
deploy-images: venv
	docker/build-images.sh

# The API's OpenAPI 3 schema, as /api/v1/schema/ serves it.
api-schema: venv
	$(PY) manage.py spectacular --validate --file var/openapi.yaml
	@echo "wrote var/openapi.yaml"

# The platform's apps import one way (.importlinter); platform/ is not a package, its apps are.
lint-imports: venv
	PYTHONPATH=platform $(VENV)/bin/lint-imports --no-logo

lint: venv lint-imports
	$(VENV)/bin/ruff check runners platform tests examples perf
