"""/api/v1/: the resources, the schema, Swagger UI and Redoc (served from local static files)."""

from __future__ import annotations

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from api import views

app_name = "api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("tokens", views.TokenViewSet, basename="token")
router.register("benchmarks", views.BenchmarkViewSet, basename="benchmark")
router.register("hardware-classes", views.HardwareClassViewSet, basename="hardware-class")
router.register("tracks", views.TrackViewSet, basename="track")
router.register("submissions", views.SubmissionViewSet, basename="submission")
router.register("uploads", views.UploadViewSet, basename="upload")
router.register("runs", views.RunViewSet, basename="run")
router.register("results", views.ResultViewSet, basename="result")
router.register("papers", views.PaperViewSet, basename="paper")
router.register("claims", views.ClaimViewSet, basename="claim")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("auth/token/", views.PasswordTokenView.as_view(), name="password-token"),
    path(
        "leaderboards/<slug:benchmark_slug>/<slug:hardware_class_name>/",
        views.LeaderboardView.as_view(),
        name="leaderboard",
    ),
    path("schema/", SpectacularAPIView.as_view(api_version="1"), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("", include(router.urls)),
    # Anything else under /api/v1/ answers in the API's error shape, not with an HTML page.
    re_path(r"^[\s\S]*$", views.not_found, name="not-found"),
]
