from django.contrib import admin
from django.http import HttpRequest

from benchmarks.models import Benchmark, HardwareClass, RunnerStatus


@admin.register(Benchmark)
class BenchmarkAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "num_classes", "data_version", "reference_accuracy", "accuracy_floor_fraction")
    search_fields = ("slug", "name")
    # The data fields come from import_benchmark, which checks the files; editing them by
    # hand would break the link between the row and the stored files.
    readonly_fields = (
        "num_classes",
        "input_shape",
        "data_version",
        "data_dir",
        "reference_accuracy",
        "reference_model_sha256",
        "data_sha256",
        "created",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A benchmark is its files: only import_benchmark (benchmarks.services.benchmark_import)
        # creates one, with its data fields (and the budgets app its default tracks). An add form here
        # could fill neither and would fail on the empty data fields.
        return False


@admin.register(HardwareClass)
class HardwareClassAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "cpu_description",
        "cores",
        "cpuset",
        "gpus",
        "cpu_watts_per_core",
        "grid_intensity_g_per_kwh",
        "active",
    )
    list_filter = ("active",)
    fields = (
        "name",
        "cpu_description",
        "gpu_description",
        "cores",
        "cpuset",
        "gpus",
        "cpu_watts_per_core",
        "grid_intensity_g_per_kwh",
        "active",
    )


@admin.register(RunnerStatus)
class RunnerStatusAdmin(admin.ModelAdmin):
    list_display = ("host", "hardware_class_name", "state", "docker_ok", "last_seen")
    list_filter = ("state", "hardware_class_name")
    readonly_fields = tuple(f.name for f in RunnerStatus._meta.fields)
