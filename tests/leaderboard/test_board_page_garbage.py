"""A built board page leaves none of its rows' model instances in reference cycles
(leaderboard.rows.untie): they are freed when the page is done, not in a full pass of the
garbage collector, which on a busy process freed many requests' worth at once inside some
unlucky request."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import reverse

from leaderboard import row_cells, stamp
from leaderboard.views import leaderboard

pytestmark = pytest.mark.django_db


@pytest.fixture
def saved_garbage() -> Iterator[Callable[[], list[object]]]:
    """start(): free what is garbage now, then keep what the collector finds unreachable
    from there on (gc.garbage) for the test to look at."""

    def start() -> list[object]:
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        return gc.garbage

    try:
        yield start
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


@pytest.mark.parametrize("query", ["", "?sort=latency_p50_us&page=1"])
def test_a_built_page_leaves_no_model_instance_in_a_cycle(
    add_entry, benchmark, hardware_class, query, saved_garbage
) -> None:
    for number in range(6):
        add_entry(name=f"entry {number}", speedup=1.2 + number, flags=["unstable"] if number % 2 else None)
    add_entry(name="under the floor", speedup=3.0, meets_accuracy_floor=False)
    url = reverse("leaderboard", args=[benchmark.slug, hardware_class.name]) + query
    assert Client().get(url).status_code == 200  # writes the entries
    caches[stamp.CACHE_ALIAS].clear()
    caches[row_cells.CACHE_ALIAS].clear()
    # The view itself, as a server calls it: the test client would keep every template's
    # context (with the rows) for the test to inspect.
    request = RequestFactory().get(url)
    request.user = AnonymousUser()
    garbage = saved_garbage()
    response = leaderboard(request, benchmark.slug, hardware_class.name)
    assert response.status_code == 200 and "entry 5" in response.content.decode()
    del response, request
    gc.collect()
    in_cycles = Counter(type(o).__name__ for o in garbage if isinstance(o, Model))
    # What the rows held (seven rows: their entries, results, figures, submissions, owners).
    assert not {name: n for name, n in in_cycles.items() if name in ROW_MODELS}, in_cycles
    # The page's own few (benchmark, class, tracks, the baseline's run) stay with the template
    # context, which Django keeps in a cycle.
    assert sum(in_cycles.values()) <= 8, in_cycles


ROW_MODELS = {"BoardEntry", "Result", "Figure", "Audit", "Submission", "User", "ResultInvalidation"}
