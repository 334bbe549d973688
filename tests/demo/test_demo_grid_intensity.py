"""HardwareClass.grid_intensity_g_per_kwh: edited in the admin, seeded for the demo class."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from benchmarks.models import HardwareClass
from demo.services import DEMO_GRID_VARIABLE, local_hardware_class

pytestmark = pytest.mark.django_db


def test_the_admin_shows_and_edits_the_grid_intensity(admin_client, hardware_class):
    url = f"/admin/benchmarks/hardwareclass/{hardware_class.pk}/change/"
    body = admin_client.get(url).content.decode()
    assert 'name="grid_intensity_g_per_kwh"' in body
    assert "gCO2e per kWh" in body
    assert "column-grid_intensity_g_per_kwh" in admin_client.get("/admin/benchmarks/hardwareclass/").content.decode()
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["grid_intensity_g_per_kwh"] = "312.5"
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert HardwareClass.objects.get(pk=hardware_class.pk).grid_intensity_g_per_kwh == 312.5


def test_the_demo_class_gets_480_grams_per_kwh_by_default(monkeypatch):
    monkeypatch.delenv(DEMO_GRID_VARIABLE, raising=False)
    assert local_hardware_class().grid_intensity_g_per_kwh == 480.0


def test_the_demo_grid_intensity_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(DEMO_GRID_VARIABLE, "56")
    assert HardwareClass.objects.get(pk=local_hardware_class().pk).grid_intensity_g_per_kwh == 56.0


@pytest.mark.parametrize("raw", ["coal", "-1", "nan", "inf"])
def test_a_bad_demo_grid_intensity_stops_the_seed_with_the_variable_named(monkeypatch, raw):
    monkeypatch.setenv(DEMO_GRID_VARIABLE, raw)
    with pytest.raises(CommandError, match=DEMO_GRID_VARIABLE):
        local_hardware_class()
    assert not HardwareClass.objects.filter(name="cpu-local").exists()


def test_seeding_again_fills_a_missing_intensity_and_keeps_one_set_in_the_admin(monkeypatch):
    monkeypatch.setenv(DEMO_GRID_VARIABLE, "400")
    hardware_class = local_hardware_class()
    HardwareClass.objects.filter(pk=hardware_class.pk).update(grid_intensity_g_per_kwh=None)
    assert local_hardware_class().grid_intensity_g_per_kwh == 400.0
    HardwareClass.objects.filter(pk=hardware_class.pk).update(grid_intensity_g_per_kwh=25.0, cpu_watts_per_core=7.0)
    reseeded = local_hardware_class()
    assert (reseeded.grid_intensity_g_per_kwh, reseeded.cpu_watts_per_core) == (25.0, 7.0)


def test_the_seed_says_the_intensity_is_an_assumption(digits_storage, monkeypatch):
    monkeypatch.delenv(DEMO_GRID_VARIABLE, raising=False)
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "480.0 gCO2e per kWh for CO2e (an assumption)" in out.getvalue()
