"""HardwareClass.cpu_watts_per_core: validated, sent in the job spec, seeded for the demo."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from benchmarks.models import HardwareClass
from demo.services import DEMO_WATTS_VARIABLE, local_hardware_class
from runners.schema import validate_job
from submissions.models import Run
from submissions.services import job_spec_for_run

pytestmark = pytest.mark.django_db


def test_the_job_spec_carries_the_power_per_core(run, hardware_class):
    HardwareClass.objects.filter(pk=hardware_class.pk).update(cpu_watts_per_core=7.5)
    run = Run.objects.select_related("hardware_class", "submission__benchmark").get(pk=run.pk)
    spec = validate_job(job_spec_for_run(run))
    assert spec["hardware_class"]["cpu_watts_per_core"] == 7.5


def test_a_class_without_the_setting_sends_null_not_zero(run):
    spec = validate_job(job_spec_for_run(run))
    assert "cpu_watts_per_core" in spec["hardware_class"]
    assert spec["hardware_class"]["cpu_watts_per_core"] is None


@pytest.mark.parametrize("watts", [0.0, -3.0])
def test_it_refuses_a_power_per_core_that_is_not_above_zero(hardware_class, watts):
    hardware_class.cpu_watts_per_core = watts
    with pytest.raises(ValidationError) as raised:
        hardware_class.full_clean()
    assert "cpu_watts_per_core" in raised.value.message_dict
    assert "above 0" in raised.value.message_dict["cpu_watts_per_core"][0]


def test_empty_is_a_valid_setting(hardware_class):
    hardware_class.cpu_watts_per_core = None
    hardware_class.full_clean()


def test_the_admin_edits_the_setting(admin_client, hardware_class):
    body = admin_client.get(f"/admin/benchmarks/hardwareclass/{hardware_class.pk}/change/").content.decode()
    assert 'name="cpu_watts_per_core"' in body
    assert "power drawn by one fully busy core, in watts" in body
    listing = admin_client.get("/admin/benchmarks/hardwareclass/").content.decode()
    assert "column-cpu_watts_per_core" in listing


def test_the_demo_class_gets_five_watts_by_default(monkeypatch):
    monkeypatch.delenv(DEMO_WATTS_VARIABLE, raising=False)
    assert local_hardware_class().cpu_watts_per_core == 5.0


def test_the_demo_class_takes_its_power_per_core_from_the_environment(monkeypatch):
    monkeypatch.setenv(DEMO_WATTS_VARIABLE, "6.25")
    assert HardwareClass.objects.get(pk=local_hardware_class().pk).cpu_watts_per_core == 6.25


@pytest.mark.parametrize("raw", ["five", "0", "-1", "nan", "inf"])
def test_a_bad_demo_power_per_core_stops_the_seed_with_the_variable_named(monkeypatch, raw):
    monkeypatch.setenv(DEMO_WATTS_VARIABLE, raw)
    with pytest.raises(CommandError, match=DEMO_WATTS_VARIABLE):
        local_hardware_class()
    assert not HardwareClass.objects.filter(name="cpu-local").exists()


def test_seeding_again_fills_a_missing_setting_and_keeps_one_set_in_the_admin(monkeypatch):
    monkeypatch.setenv(DEMO_WATTS_VARIABLE, "4.0")
    hardware_class = local_hardware_class()
    HardwareClass.objects.filter(pk=hardware_class.pk).update(cpu_watts_per_core=None)
    assert local_hardware_class().cpu_watts_per_core == 4.0
    HardwareClass.objects.filter(pk=hardware_class.pk).update(cpu_watts_per_core=11.0)
    assert local_hardware_class().cpu_watts_per_core == 11.0


def test_the_seed_says_the_figure_is_an_assumption(digits_storage, monkeypatch):
    monkeypatch.delenv(DEMO_WATTS_VARIABLE, raising=False)
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "5.0 W per busy core for energy estimates (an assumption)" in out.getvalue()
