from django.contrib import admin

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


@admin.register(HardwareClass)
class HardwareClassAdmin(admin.ModelAdmin):
    list_display = ("name", "cpu_description", "cores", "cpuset", "gpus", "active")
    list_filter = ("active",)


@admin.register(RunnerStatus)
class RunnerStatusAdmin(admin.ModelAdmin):
    list_display = ("host", "hardware_class_name", "state", "docker_ok", "last_seen")
    list_filter = ("state", "hardware_class_name")
    readonly_fields = tuple(f.name for f in RunnerStatus._meta.fields)
