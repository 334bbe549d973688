"""Results, runs and leaderboards through the API: filters, ordering by any figure, stable
pages, figures with value, unit and label, the site's CSV, a failed run's reason in the
run page's words, and the leaderboard rows exactly as the site's."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from leaderboard.exports import CSV_COLUMNS
from submissions.models import Run
from submissions.selectors import run_failure_sentence
from tests.factories.documents import phase
from tests.factories.figures import entry_figures, search
from tests.factories.rows import make_entry, make_run, make_submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(owner, stranger, benchmark, hardware_class) -> list[Run]:
    runs = [
        make_entry(owner=owner, benchmark=benchmark, hardware_class=hardware_class, name="fast", speedup=3.0),
        make_entry(owner=owner, benchmark=benchmark, hardware_class=hardware_class, name="slow", speedup=1.2),
        make_entry(
            owner=stranger,
            benchmark=benchmark,
            hardware_class=hardware_class,
            name="big search",
            speedup=2.0,
            search=search(device_count=8, hours=100.0),
        ),  # fmt: skip
        make_entry(
            owner=owner,
            benchmark=benchmark,
            hardware_class=hardware_class,
            name="flaky",
            speedup=2.5,
            flags=["unstable"],
        ),  # fmt: skip
    ]
    return runs


def _names(answer: Any) -> list[str]:
    return [row["method"] for row in answer.json()["results"]]


def test_every_figure_carries_value_unit_and_label(anon_api, board):
    result = anon_api.get("/api/v1/results/").json()["results"][0]
    assert result["figures"]
    for figure in result["figures"]:
        assert set(figure) == {"subject", "name", "value", "unit", "label"}
        assert figure["label"] in ("measured", "estimated", "declared")
    speedup = next(f for f in result["figures"] if (f["subject"], f["name"]) == ("submission", "speedup"))
    assert speedup["unit"] == "ratio"
    assert result["standing"] == {"status": "ranked", "reason": ""}


def test_results_are_ordered_by_any_figure_either_way(anon_api, board):
    assert _names(anon_api.get("/api/v1/results/?order=-speedup")) == ["fast", "flaky", "big search", "slow"]
    assert _names(anon_api.get("/api/v1/results/?order=speedup")) == ["slow", "big search", "flaky", "fast"]
    # Another subject's figure, and one that no result has (all last, by id).
    assert _names(anon_api.get("/api/v1/results/?order=submission.latency_p50")) == [
        "fast",
        "flaky",
        "big search",
        "slow",
    ]
    assert len(_names(anon_api.get("/api/v1/results/?order=-no_such_figure"))) == 4
    bad = anon_api.get("/api/v1/results/?order=speedup;drop")
    assert bad.status_code == 400 and "order" in bad.json()["error"]["fields"]


def test_pages_follow_a_stable_order_without_overlap(anon_api, board):
    seen = []
    for page in (1, 2):
        answer = anon_api.get(f"/api/v1/results/?order=-compress_wall&page_size=3&page={page}").json()
        seen += [row["id"] for row in answer["results"]]
    # Every result has the same compress_wall: ties keep id order.
    assert seen == sorted(seen) and len(set(seen)) == 4


def test_results_are_filtered_by_owner_flag_track_and_class(anon_api, board, benchmark, hardware_class):
    assert sorted(_names(anon_api.get("/api/v1/results/?owner=mallory"))) == ["big search"]
    assert _names(anon_api.get("/api/v1/results/?flag=unstable")) == ["flaky"]
    small = anon_api.get(f"/api/v1/results/?benchmark={benchmark.slug}&track=small-lab")
    assert sorted(_names(small)) == ["fast", "flaky", "slow"]
    assert _names(anon_api.get(f"/api/v1/results/?benchmark={benchmark.slug}&track=large-lab&owner=mallory")) == [
        "big search"
    ]
    assert anon_api.get("/api/v1/results/?track=small-lab").status_code == 400
    assert anon_api.get(f"/api/v1/results/?benchmark={benchmark.slug}&track=nope").status_code == 400
    assert anon_api.get(f"/api/v1/results/?hardware_class={hardware_class.name}").json()["count"] == 4
    assert anon_api.get("/api/v1/results/?hardware_class=gpu-none").json()["count"] == 0
    assert anon_api.get("/api/v1/results/?division=own").json()["count"] == 0


def test_the_results_csv_has_one_line_per_figure(anon_api, board):
    text = anon_api.get("/api/v1/results/?format=csv&owner=mallory").getvalue().decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["method"] for row in rows} == {"big search"}
    speedup = next(row for row in rows if row["figure"] == "speedup" and row["subject"] == "submission")
    assert (float(speedup["value"]), speedup["unit"], speedup["label"]) == (2.0, "ratio", "measured")


def test_the_leaderboard_is_the_sites_board_row_for_row(anon_api, client, board, benchmark, hardware_class):
    for query in ("", "?track=small-lab", "?sort=-latency_p50_us"):
        api = anon_api.get(f"/api/v1/leaderboards/{benchmark.slug}/{hardware_class.name}/{query}").json()
        site = json.loads(
            client.get(f"/benchmarks/{benchmark.slug}/{hardware_class.name}/leaderboard.json{query}").content
        )
        assert api == site
    entry = api["entries"][0]
    assert entry["figures"]["speedup"] == {
        "value": entry["figures"]["speedup"]["value"],
        "unit": "ratio",
        "label": "measured",
    }
    api_csv = anon_api.get(f"/api/v1/leaderboards/{benchmark.slug}/{hardware_class.name}/?format=csv").getvalue()
    site_csv = b"".join(
        client.get(f"/benchmarks/{benchmark.slug}/{hardware_class.name}/leaderboard.csv").streaming_content
    )
    assert api_csv == site_csv
    assert api_csv.decode().splitlines()[0].split(",") == list(CSV_COLUMNS)
    unknown = anon_api.get(f"/api/v1/leaderboards/{benchmark.slug}/{hardware_class.name}/?track=nope")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "unknown_track")


def test_a_run_shows_its_transitions_phase_timings_and_log_tails(owner, owner_api, benchmark, hardware_class):
    from submissions.models import Result

    submission = make_submission(owner=owner, benchmark=benchmark, published=False)
    run = make_run(
        submission=submission, hardware_class=hardware_class, figures=entry_figures(), logs={"compress": "hi\n"}
    )
    Result.objects.filter(run=run).update(
        document={"phases": {"compress": phase("hi\n", wall_s=12.5), "serve_submission": phase(wall_s=3.0)}}
    )
    answer = owner_api.get(f"/api/v1/runs/{run.pk}/").json()
    assert [t["to_state"] for t in answer["transitions"]] == ["staging", "compressing", "measuring", "succeeded"]
    compress = answer["phases"][0]
    assert compress["phase"] == "compress" and compress["exit_code"] == 0
    assert {"subject": "compress", "name": "wall", "value": 12.5, "unit": "s", "label": "measured"} in compress[
        "figures"
    ]
    assert answer["failure"] is None and answer["result"] == run.result.pk
    logs = owner_api.get(f"/api/v1/runs/{run.pk}/logs/").json()
    assert logs["logs"] == [{"phase": "compress", "text": "hi\n", "cut": False}]


def test_a_failed_run_says_why_in_the_words_of_its_page(owner, owner_api, owner_client, benchmark, hardware_class):
    submission = make_submission(owner=owner, benchmark=benchmark)
    reason = "compress exited with code 3: the method wrote no model.pt; see the log tail"
    run = make_run(submission=submission, hardware_class=hardware_class, state=Run.FAILED, failure_reason=reason)
    failure = owner_api.get(f"/api/v1/runs/{run.pk}/").json()["failure"]
    assert failure["reason"] == reason and failure["code"] == "compress_nonzero_exit"
    assert failure["text"] == run_failure_sentence(run=run)
    page = owner_client.get(f"/runs/{run.pk}/").content.decode()
    notice = page[page.index('id="failure"') :]
    notice = notice[notice.index(">") + 1 : notice.index("</div>")]
    reason, hint = notice.split('<p class="small" id="failure-hint">', 1)
    words = lambda html: " ".join(html.replace("<strong>", "").replace("</strong>", "").replace("</p>", "").split())  # noqa: E731
    assert words(reason) == failure["text"]
    assert words(hint) == f"What to do: {failure['what_to_do']}"


def test_cancel_and_rerun_a_run(owner, owner_api, benchmark, hardware_class, no_dispatch):
    submission = make_submission(owner=owner, benchmark=benchmark)
    run = Run.objects.create(submission=submission, hardware_class=hardware_class)
    cancelled = owner_api.post(f"/api/v1/runs/{run.pk}/cancel/").json()
    assert cancelled["state"] == "cancelled"
    assert cancelled["transitions"][-1]["reason"] == "cancelled by ada"
    conflict = owner_api.post(f"/api/v1/runs/{run.pk}/cancel/")
    assert (conflict.status_code, conflict.json()["error"]["code"]) == (409, "conflict")
    again = owner_api.post(f"/api/v1/runs/{run.pk}/rerun/")
    assert again.status_code == 201 and again.json()["state"] == "queued" and again.json()["id"] != run.pk


def test_submissions_are_published_and_withdrawn(owner, owner_api, benchmark, anon_api):
    submission = make_submission(owner=owner, benchmark=benchmark, published=False)
    assert anon_api.get(f"/api/v1/submissions/{submission.pk}/").status_code == 404
    assert owner_api.post(f"/api/v1/submissions/{submission.pk}/publish/").json()["published"] is True
    assert anon_api.get(f"/api/v1/submissions/{submission.pk}/").status_code == 200
    assert owner_api.post(f"/api/v1/submissions/{submission.pk}/withdraw/").json()["published"] is False
    assert anon_api.get(f"/api/v1/submissions/{submission.pk}/").status_code == 404
    mine = owner_api.get("/api/v1/submissions/?mine=true").json()
    assert [row["id"] for row in mine["results"]] == [submission.pk]


def test_papers_and_claims_are_made_and_edited_by_their_owner(owner_api, benchmark, hardware_class, owner):
    made = owner_api.post(
        "/api/v1/papers/",
        {"slug": "my-paper", "title": "Pruning", "authors": "A. L.", "year": 2025, "link": "https://example.org/p"},
        format="json",
    )
    assert made.status_code == 201, made.json()
    assert made.json()["owner"] == "ada"
    submission = make_submission(owner=owner, benchmark=benchmark)
    new_claim = {
        "benchmark": benchmark.slug,
        "hardware_class": hardware_class.name,
        "method": "90%",
        "claimed_speedup": 2.0,
        "submission": submission.pk,
    }
    claim = owner_api.post("/api/v1/papers/my-paper/claims/", new_claim, format="json")
    # A claim's submission must be linked to the paper first (the model's own rule).
    assert claim.status_code == 400 and "submission" in claim.json()["error"]["fields"]
    from papers.models import Paper

    Paper.objects.get(slug="my-paper").submissions.add(submission)
    claim = owner_api.post("/api/v1/papers/my-paper/claims/", new_claim, format="json")
    assert claim.status_code == 201, claim.json()
    edited = owner_api.patch(f"/api/v1/claims/{claim.json()['id']}/", {"claimed_speedup": 2.5}, format="json")
    assert edited.json()["claimed_speedup"] == 2.5
    empty = owner_api.patch(f"/api/v1/claims/{claim.json()['id']}/", {"claimed_speedup": None}, format="json")
    assert empty.status_code == 400  # a claim needs a claimed figure
    assert owner_api.get("/api/v1/papers/my-paper/").json()["claims"][0]["status"] == "pending"
    make_run(
        submission=submission,
        hardware_class=hardware_class,
        figures=entry_figures(speedup=2.4),
        meets_accuracy_floor=True,
    )
    detail = owner_api.get("/api/v1/papers/my-paper/").json()
    assert detail["status"] == "reproduced"
    quantity = detail["claims"][0]["quantities"][0]
    assert quantity["claimed"] == {
        "subject": "submission",
        "name": "speedup",
        "value": 2.5,
        "unit": "ratio",
        "label": "declared",
    }
    assert quantity["measured"] == {
        "subject": "submission",
        "name": "speedup",
        "value": 2.4,
        "unit": "ratio",
        "label": "measured",
    }


@pytest.mark.parametrize(
    "url", ["/api/v1/results/", "/api/v1/results/?order=-speedup", "/api/v1/runs/", "/api/v1/submissions/"]
)
def test_lists_make_as_many_queries_for_many_rows_as_for_few(owner_api, owner, benchmark, hardware_class, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owner_api.get(url).status_code == 200
        return len(captured.captured_queries)

    make_entry(owner=owner, benchmark=benchmark, hardware_class=hardware_class)
    queries()  # the token's first use is recorded once (last_used_at)
    few = queries()
    for _ in range(6):
        make_entry(owner=owner, benchmark=benchmark, hardware_class=hardware_class)
    assert queries() == few
