"""Root URL configuration: each app owns its pages' URLs."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from footprint.health import healthz
from submissions.metrics import metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),
    path("healthz", healthz, name="healthz"),
    path("", include("submissions.runner_api")),
    path("", include("submissions.urls")),
    path("", include("benchmarks.urls")),
    path("", include("leaderboard.urls")),
    path("", include("papers.urls")),
    path("", include("pages.urls")),
]
