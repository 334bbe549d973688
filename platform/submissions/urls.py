"""URLs of the submission and run pages, and of the accounts researchers submit with."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from footprint.views import LoginView, signup
from submissions import views

urlpatterns = [
    path("submissions/<int:submission_id>/", views.submission_detail, name="submission-detail"),
    path(
        "submissions/<int:submission_id>/publish/",
        views.submission_publish,
        name="submission-publish",
    ),
    path("runs/<int:run_id>/cancel/", views.run_cancel_view, name="run-cancel"),
    path("runs/<int:run_id>/rerun/", views.run_rerun_view, name="run-rerun"),
    path("runs/<int:run_id>/latencies.csv", views.run_latencies_csv, name="run-latencies"),
    path("runs/<int:run_id>/latencies.json", views.run_latencies_json, name="run-latencies-json"),
    path("runners/", views.runners_page, name="runners"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", signup, name="signup"),
    path("accounts/submissions/", views.my_submissions, name="my-submissions"),
    path("accounts/password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
