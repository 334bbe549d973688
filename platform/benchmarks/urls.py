"""URLs of the home page and the benchmark list."""

from __future__ import annotations

from django.urls import path

from benchmarks import views

urlpatterns = [
    path("", views.home, name="home"),
    path("benchmarks/", views.benchmark_list, name="benchmark-list"),
]
