"""URLs of the run page and the run's result.json."""

from __future__ import annotations

from django.urls import path

from pages import views

urlpatterns = [
    path("", views.home, name="home"),
    path("submissions/new/", views.submission_new, name="submission-new"),
    path("runs/<int:run_id>/", views.run_detail, name="run-detail"),
    path("runs/<int:run_id>/result.json", views.run_result_json, name="run-result-json"),
    path("runs/<int:run_id>/status.json", views.run_status_json, name="run-status"),
]
