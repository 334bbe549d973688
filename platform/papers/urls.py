"""URLs of the paper pages and of the badges (papers and runs)."""

from __future__ import annotations

from django.urls import path

from papers import views

urlpatterns = [
    path("papers/", views.paper_list, name="paper-list"),
    path("papers/<slug:slug>/", views.paper_detail, name="paper-detail"),
    path("papers/<slug:slug>/badge.svg", views.paper_badge, name="paper-badge"),
    path("runs/<int:run_id>/badge.svg", views.run_badge, name="run-badge"),
]
