"""Root URL configuration: each app owns its pages' URLs."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("submissions.urls")),
    path("", include("benchmarks.urls")),
    path("", include("leaderboard.urls")),
    path("", include("papers.urls")),
    path("", include("pages.urls")),
]
