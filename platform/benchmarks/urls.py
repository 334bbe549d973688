"""URLs of the home page, the benchmark list and the runners page."""

from __future__ import annotations

from django.urls import path

from benchmarks import views

urlpatterns = [
    path("", views.home, name="home"),
    path("benchmarks/", views.benchmark_list, name="benchmark-list"),
    path("runners/", views.runners, name="runners"),
]
