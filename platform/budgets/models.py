from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models

from benchmarks.models import Benchmark


class Track(models.Model):
    """A budget track of a benchmark: limits on a result's total search cost.

    A result belongs to the first track, by `order`, whose limits its totals (measured
    compress phase + declared off-platform search) fit (budgets.tracks.track_for). An
    empty limit is no limit; a track without limits takes every result.
    """

    benchmark = models.ForeignKey(Benchmark, on_delete=models.CASCADE, related_name="tracks")
    slug = models.SlugField(max_length=64, help_text="e.g. small-lab; part of leaderboard URLs and exports")
    name = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField(
        default=0, help_text="tracks are tried from the smallest order up; a result goes to the first it fits"
    )
    max_device_hours = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0)],
        help_text="limit on total device-hours (measured compress + declared search); empty: no limit",
    )
    max_kwh = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0)],
        help_text="limit on total energy in kWh (measured compress + declared search); empty: no limit",
    )

    class Meta:
        ordering = ("benchmark", "order", "slug")
        constraints = (models.UniqueConstraint(fields=("benchmark", "slug"), name="one_track_slug_per_benchmark"),)

    def __str__(self) -> str:
        return self.name

    @property
    def is_unlimited(self) -> bool:
        return self.max_device_hours is None and self.max_kwh is None
