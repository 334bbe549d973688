"""Root URL configuration: each app owns its pages' URLs."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from api import pages as api_pages
from footprint.health import healthz
from submissions.metrics import metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("api.urls")),
    path("account/tokens/", api_pages.tokens_page, name="api-tokens"),
    path("account/tokens/<int:token_id>/revoke/", api_pages.token_revoke, name="api-token-revoke"),
    path("", include("submissions.runner_api")),
    path("", include("submissions.urls")),
    path("", include("benchmarks.urls")),
    path("", include("leaderboard.urls")),
    path("", include("papers.urls")),
    path("", include("pages.urls")),
]
