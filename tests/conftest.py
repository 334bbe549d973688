"""The platform tests' fixtures (tests/fixtures/platform.py), loaded here rather than with -p in
pytest.ini: they import the apps' models, which needs Django set up first."""

import os

pytest_plugins = ["tests.fixtures.platform"]

# The compose deployment's tests build and start a whole stack (minutes): `make test-deploy`
# runs them (FOOTPRINT_TEST_DEPLOY=1), after `make test` in CI.
collect_ignore = [] if os.environ.get("FOOTPRINT_TEST_DEPLOY") == "1" else ["deploy"]
