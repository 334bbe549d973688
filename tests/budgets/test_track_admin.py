"""Operators edit the track limits from the admin's list."""

from __future__ import annotations

from budgets.models import Track


def test_an_operator_sets_a_limit_from_the_track_list(admin_client, benchmark):
    response = admin_client.get("/admin/budgets/track/")
    assert response.status_code == 200
    assert b"small-lab" in response.content

    tracks = list(Track.objects.filter(benchmark=benchmark).order_by("benchmark__slug", "order", "slug"))
    form = {"form-TOTAL_FORMS": str(len(tracks)), "form-INITIAL_FORMS": str(len(tracks)), "_save": "Save"}
    for i, track in enumerate(tracks):
        form[f"form-{i}-id"] = str(track.pk)
        form[f"form-{i}-name"] = track.name
        form[f"form-{i}-order"] = str(track.order)
        form[f"form-{i}-max_device_hours"] = "" if track.max_device_hours is None else str(track.max_device_hours)
        form[f"form-{i}-max_kwh"] = "" if track.max_kwh is None else str(track.max_kwh)
    form["form-0-max_kwh"] = "5"
    form["form-1-max_kwh"] = "-1"  # refused: a limit is >= 0
    response = admin_client.post("/admin/budgets/track/", form)
    assert response.status_code == 200  # the list again, with the error
    assert Track.objects.get(pk=tracks[0].pk).max_kwh == 10.0  # nothing saved while a row is invalid

    form["form-1-max_kwh"] = "200"
    response = admin_client.post("/admin/budgets/track/", form)
    assert response.status_code == 302
    assert Track.objects.get(pk=tracks[0].pk).max_kwh == 5.0
