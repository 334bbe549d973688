"""Every page renders with demo-like data, for anonymous visitors and for the owner."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.factories.scenes import Demo

pytestmark = pytest.mark.django_db


def _public_urls(demo: Demo) -> list[str]:
    return [
        "/",
        "/benchmarks/",
        "/runners/",
        demo.leaderboard_url,
        f"/submissions/{demo.fast.pk}/",
        f"/submissions/{demo.broken.pk}/",
        f"/runs/{demo.fast_run.pk}/",
        f"/runs/{demo.failed_run.pk}/",
        f"/runs/{demo.queued_run.pk}/",
        "/accounts/login/",
        "/accounts/signup/",
    ]


def test_every_public_page_renders_for_an_anonymous_visitor(client: Client, demo: Demo) -> None:
    for url in _public_urls(demo):
        response = client.get(url)
        assert response.status_code == 200, url


def test_every_page_renders_for_the_owner(owner_client: Client, demo: Demo) -> None:
    urls = [
        *[u for u in _public_urls(demo) if u != "/accounts/signup/"],
        "/submissions/new/",
        f"/submissions/{demo.private.pk}/",
        f"/runs/{demo.private_run.pk}/",
    ]
    for url in urls:
        response = owner_client.get(url)
        assert response.status_code == 200, url


def test_pages_render_on_an_empty_site(client: Client, db: None) -> None:
    for url in ("/", "/benchmarks/", "/runners/"):
        response = client.get(url)
        assert response.status_code == 200, url
    assert "No benchmark is set up yet" in client.get("/").content.decode()


def test_the_home_page_links_to_each_leaderboard(client: Client, demo: Demo) -> None:
    body = client.get("/").content.decode()
    assert f'href="{demo.leaderboard_url}"' in body


def test_an_unknown_benchmark_or_class_is_a_404(client: Client, demo: Demo) -> None:
    assert client.get("/benchmarks/nope/cpu-local/").status_code == 404
    assert client.get(f"/benchmarks/{demo.benchmark.slug}/gpu-none/").status_code == 404
    assert client.get("/submissions/999999/").status_code == 404
    assert client.get("/runs/999999/").status_code == 404


def test_the_upload_page_asks_an_anonymous_visitor_to_log_in(client: Client, db: None) -> None:
    response = client.get("/submissions/new/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/submissions/new/")


def test_the_upload_page_says_when_there_is_no_benchmark(owner_client: Client) -> None:
    response = owner_client.get("/submissions/new/")
    assert response.status_code == 200
    assert "No benchmark is set up yet, so there is nothing to submit to." in response.content.decode()


def test_the_home_page_counts_each_boards_results_and_lists_the_latest(client: Client, demo: Demo) -> None:
    body = client.get("/").content.decode()
    card = re.search(r'<section class="card" data-benchmark="digits"(.*?)</section>', body, re.DOTALL).group(1)
    # Published results on the board: the two ranked and the one under the floor (not the private one).
    assert re.search(r">cpu-local</a>:\s*3 results", card)
    assert "Reference model: 97.00 % accuracy" in card
    latest = re.search(r'<table id="latest">(.*?)</table>', body, re.DOTALL).group(1)
    assert "int8 dynamic" in latest and demo.private.name not in latest


def test_the_home_page_queries_do_not_grow_with_the_results(
    client: Client, demo: Demo, django_assert_max_num_queries
) -> None:
    client.get("/")  # writes the board entries once
    # benchmarks, classes, the newest entry and the results since it, the counts, the latest
    with django_assert_max_num_queries(6):
        assert client.get("/").status_code == 200
