"""URLs of the leaderboard pages."""

from __future__ import annotations

from django.urls import path

from leaderboard import views

urlpatterns = [
    path(
        "benchmarks/<slug:benchmark_slug>/<slug:hardware_class_name>/leaderboard.csv",
        views.leaderboard_csv,
        name="leaderboard-csv",
    ),
    path(
        "benchmarks/<slug:benchmark_slug>/<slug:hardware_class_name>/leaderboard.json",
        views.leaderboard_json,
        name="leaderboard-json",
    ),
    path(
        "benchmarks/<slug:benchmark_slug>/<slug:hardware_class_name>/",
        views.leaderboard,
        name="leaderboard",
    ),
]
