"""The list of benchmarks (the home page, which counts results, is pages.views.home)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from benchmarks.models import Benchmark, HardwareClass


def _benchmarks_and_classes() -> dict[str, object]:
    return {
        "benchmarks": list(Benchmark.objects.order_by("name")),
        "hardware_classes": list(HardwareClass.objects.filter(active=True).order_by("name")),
    }


def benchmark_list(request: HttpRequest) -> HttpResponse:
    return render(request, "benchmarks/benchmark_list.html", _benchmarks_and_classes())
