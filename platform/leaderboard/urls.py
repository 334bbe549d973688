"""URLs of the leaderboard pages."""

from __future__ import annotations

from django.urls import path

from leaderboard import views

urlpatterns = [
    path(
        "benchmarks/<slug:benchmark_slug>/<slug:hardware_class_name>/",
        views.leaderboard,
        name="leaderboard",
    ),
]
