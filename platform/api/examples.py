"""Examples of the main endpoints' bodies, shown in Swagger UI and Redoc."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

_DIGEST = "sha256:" + "4f" * 32
_FIGURE = {"subject": "submission", "name": "speedup", "value": 1.42, "unit": "ratio", "label": "measured"}

NEW_TOKEN = OpenApiExample(
    "a new token",
    value={
        "id": 3,
        "name": "CI of my paper",
        "prefix": "fp_Zx81aQ",
        "created": "2026-12-01T09:00:00Z",
        "last_used_at": None,
        "revoked_at": None,
        "token": "fp_Zx81aQ…(43 characters, shown once)",
    },
    response_only=True,
)
UPLOAD_BEGIN = OpenApiExample(
    "begin an upload of 1.2 GB",
    value={"size_bytes": 1_234_567_890, "sha256": "9a" * 32},
    request_only=True,
)
SUBMIT_UPLOAD = OpenApiExample(
    "from a complete upload",
    value={"name": "90% magnitude pruning", "benchmark": "digits", "division": "standard", "upload": 12},
    request_only=True,
)
SUBMIT_REFERENCE = OpenApiExample(
    "from a registry, pinned by digest",
    value={
        "name": "int8 dynamic",
        "benchmark": "digits",
        "division": "own",
        "hardware_classes": ["cpu-local"],
        "image_reference": f"ghcr.io/lab/int8-method@{_DIGEST}",
    },
    request_only=True,
)
SUBMISSION = OpenApiExample(
    "the new submission",
    value={
        "id": 41,
        "name": "90% magnitude pruning",
        "description": "",
        "benchmark": "digits",
        "division": "standard",
        "owner": "ada",
        "published": False,
        "created": "2026-12-01T09:00:00Z",
        "image_id": _DIGEST,
        "image_reference": "",
        "tarball_sha256": "9a" * 32,
        "tarball_size_bytes": 1_234_567_890,
        "runs": [
            {
                "id": 77,
                "hardware_class": "cpu-local",
                "state": "queued",
                "url": "/api/v1/runs/77/",
                "web_url": "/runs/77/",
            }
        ],
        "papers": [],
        "url": "/api/v1/submissions/41/",
        "web_url": "/submissions/41/",
    },
    response_only=True,
    status_codes=["201"],
)
RESULT = OpenApiExample(
    "a page of results",
    value={
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": 9,
                "run": 77,
                "submission": 41,
                "method": "90% magnitude pruning",
                "owner": "ada",
                "benchmark": "digits",
                "hardware_class": "cpu-local",
                "division": "standard",
                "finished_at": "2026-12-01T09:12:00Z",
                "meets_accuracy_floor": True,
                "flags": [],
                "standing": {"status": "ranked", "reason": ""},
                "figures": [
                    {
                        "subject": "submission",
                        "name": "accuracy",
                        "value": 0.975,
                        "unit": "fraction",
                        "label": "measured",
                    },
                    _FIGURE,
                ],
                "url": "/api/v1/results/9/",
            }
        ],
    },
    response_only=True,
)
LEADERBOARD = OpenApiExample(
    "a board (abridged)",
    value={
        "schema": "footprint.leaderboard/1",
        "benchmark": {"slug": "digits", "name": "Digits"},
        "hardware_class": {"name": "cpu-local", "gpus": 0, "grid_intensity_g_per_kwh": None},
        "sort": "rank",
        "entries": [
            {
                "rank": 1,
                "status": "ranked",
                "method": "structured-prune",
                "figures": {"speedup": {"value": 1.42, "unit": "ratio", "label": "measured"}},
            }
        ],
    },
    response_only=True,
)
