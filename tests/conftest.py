"""The platform tests' fixtures (tests/fixtures/platform.py), loaded here rather than with -p in
pytest.ini: they import the apps' models, which needs Django set up first."""

pytest_plugins = ["tests.fixtures.platform"]
