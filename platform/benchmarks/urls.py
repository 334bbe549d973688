"""URLs of the benchmark list."""

from __future__ import annotations

from django.urls import path

from benchmarks import views

urlpatterns = [
    path("benchmarks/", views.benchmark_list, name="benchmark-list"),
]
