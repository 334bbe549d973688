"""The deployment fixtures of test_platform_and_runner (broker, platform worker and runner
processes), shared by the other integration tests that need a real runner."""

from tests.integration.test_platform_and_runner import (  # noqa: F401 - fixtures
    database_url,
    deployment,
    processes,
    rabbitmq_url,
    use_broker,
)
