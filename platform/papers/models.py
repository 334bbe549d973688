"""Papers, what they claim, and how close a measurement must come to reproduce a claim.

The rules that turn claims and measured figures into a status live in papers.claims;
docs/claims.md writes them down.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.utils import timezone

from benchmarks.models import Benchmark, HardwareClass
from submissions.models import Submission

# New-style arXiv identifiers (since April 2007): YYMM.NNNN (to 2014) or YYMM.NNNNN (from
# 2015), with an optional version. Old style: archive[.SUBJECT]/YYMMNNN (cs/0101001,
# math.AG/0601001, hep-th/9901001).
ARXIV_NEW_RE = re.compile(r"\d{2}(0[1-9]|1[0-2])\.\d{4,5}(v[1-9]\d*)?")
ARXIV_OLD_RE = re.compile(r"[a-z]+(-[a-z]+)?(\.[A-Z]{2})?/\d{2}(0[1-9]|1[0-2])\d{3}(v[1-9]\d*)?")
# Crossref's advice for modern DOIs: "10." + a registrant code of 4-9 digits + "/" + a suffix;
# the suffix may hold nearly anything but white space.
DOI_RE = re.compile(r"10\.\d{4,9}(\.\d+)*/\S+")


# Default tolerances of a claim (docs/claims.md); a ClaimTolerance row overrides them per benchmark.
DEFAULT_ACCURACY_ABS = 0.005  # 0.5 percentage points
DEFAULT_SPEEDUP_REL = 0.10
DEFAULT_COMPRESSION_RATIO_REL = 0.10
DEFAULT_SIZE_REL = 0.10
DEFAULT_SEARCH_ENERGY_REL = 0.25


def validate_arxiv_id(value: str) -> None:
    if not value:
        return
    if value.lower().startswith(("arxiv:", "http://", "https://")):
        raise ValidationError(
            f"{value!r}: give the bare identifier, without 'arXiv:' or a URL, e.g. 2101.00001 or cs/0101001"
        )
    if not (ARXIV_NEW_RE.fullmatch(value) or ARXIV_OLD_RE.fullmatch(value)):
        raise ValidationError(
            f"{value!r} is not an arXiv identifier: expected YYMM.NNNNN (e.g. 2101.00001 or 2101.00001v2) "
            "or the old style archive/YYMMNNN (e.g. cs/0101001)"
        )


def validate_doi(value: str) -> None:
    if not value:
        return
    if value.lower().startswith(("doi:", "http://", "https://")):
        raise ValidationError(f"{value!r}: give the bare DOI, without 'doi:' or a URL, e.g. 10.1145/3292500.3330701")
    if not DOI_RE.fullmatch(value):
        raise ValidationError(
            f"{value!r} is not a DOI: expected 10.<registrant>/<suffix>, e.g. 10.1145/3292500.3330701"
        )


def validate_above_zero(value: float | None) -> None:
    # A ratio of 0 (or below) is no speed-up or compression anyone can claim.
    if value is not None and not value > 0:
        raise ValidationError(f"{value} is not a ratio a method can reach; give a figure above 0")


class Paper(models.Model):
    """A publication whose claims Footprint measures; submissions can be linked to it."""

    slug = models.SlugField(max_length=100, unique=True, help_text="the paper's address: /papers/<slug>/")
    title = models.CharField(max_length=300)
    authors = models.CharField(max_length=1000, help_text="as printed, e.g. 'A. Lovelace, G. Hopper'")
    venue = models.CharField(max_length=200, blank=True, help_text="e.g. NeurIPS, ICLR, arXiv preprint")
    year = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1950), MaxValueValidator(2100)]
    )
    arxiv_id = models.CharField(
        "arXiv id", max_length=40, blank=True, validators=[validate_arxiv_id], help_text="e.g. 2101.00001v2"
    )
    doi = models.CharField("DOI", max_length=200, blank=True, validators=[validate_doi], help_text="e.g. 10.1145/1234")
    url = models.URLField(
        "URL",
        max_length=500,
        blank=True,
        # http(s) only: the page links to it.
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="the paper's page or PDF, when neither arXiv nor a DOI reaches it",
    )
    # Who may edit the paper and its claims through the API (and the site's owner pages);
    # None for papers an operator entered in the admin.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="papers"
    )
    submissions = models.ManyToManyField(
        Submission,
        related_name="papers",
        blank=True,
        help_text="submissions that implement the paper's methods; a claim measures one of them",
    )
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        # Newest first; papers without a year (preprints, the demo) after the dated ones.
        ordering = (models.F("year").desc(nulls_last=True), "title", "id")

    def __str__(self) -> str:
        return self.title

    @property
    def arxiv_url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}" if self.arxiv_id else ""

    @property
    def doi_url(self) -> str:
        # A DOI suffix may hold characters that mean something in a URL (#, ?, <, >).
        return f"https://doi.org/{quote(self.doi, safe='/')}" if self.doi else ""


class Claim(models.Model):
    """What a paper says a method reaches on a benchmark and a kind of hardware.

    Each claimed quantity is optional; a claim compares with the latest succeeded run of
    `submission` on `hardware_class` (papers.claims).
    """

    CLAIMED_FIELDS = (
        "claimed_accuracy",
        "claimed_speedup",
        "claimed_compression_ratio",
        "claimed_size_bytes",
        "claimed_search_kwh",
    )

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="claims")
    benchmark = models.ForeignKey(Benchmark, on_delete=models.PROTECT, related_name="claims")
    hardware_class = models.ForeignKey(HardwareClass, on_delete=models.PROTECT, related_name="claims")
    submission = models.ForeignKey(
        Submission,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="claims",
        help_text="the submission that measures this claim's method; it must be linked to the paper",
    )
    method = models.CharField(
        max_length=100, help_text="the method as the paper names it, e.g. '90% magnitude pruning'"
    )
    claimed_accuracy = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="a fraction: 0.975 for 97.5 %",
    )
    claimed_speedup = models.FloatField(
        null=True, blank=True, validators=[validate_above_zero], help_text="a ratio against the reference, e.g. 2.1"
    )
    claimed_compression_ratio = models.FloatField(
        null=True,
        blank=True,
        validators=[validate_above_zero],
        help_text="reference parameters / non-zero parameters, e.g. 10 for 90 % sparsity",
    )
    claimed_size_bytes = models.PositiveBigIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)], help_text="the model file's size on disk, in bytes"
    )
    claimed_search_kwh = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0)],
        help_text="energy the paper says its compression (search, training) took, in kWh",
    )
    note = models.TextField(blank=True, help_text="where in the paper, and anything a reader should know")
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("paper", "id")

    def __str__(self) -> str:
        return f"{self.method} ({self.benchmark.slug} on {self.hardware_class.name})"

    def claimed_values(self) -> dict[str, float | int | None]:
        return {name: getattr(self, name) for name in self.CLAIMED_FIELDS}

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if all(value is None for value in self.claimed_values().values()):
            errors["__all__"] = (
                "a claim needs at least one claimed figure: "
                "accuracy, speed-up, compression ratio, size or search energy"
            )
        if self.submission_id is not None:
            submission = self.submission
            if self.benchmark_id is not None and submission.benchmark_id != self.benchmark_id:
                errors["submission"] = (
                    f"{submission.name!r} was submitted to another benchmark; "
                    "pick a submission of this claim's benchmark"
                )
            else:
                # Set by the admin's claim formset from the paper form being saved with it
                # (the paper may be new, or its links changing in the same request).
                linked = getattr(self, "paper_submission_ids", None)
                if linked is None and self.paper_id is not None:
                    linked = set(
                        Paper.submissions.through.objects.filter(paper_id=self.paper_id).values_list(
                            "submission_id", flat=True
                        )
                    )
                if linked is not None and submission.pk not in linked:
                    errors["submission"] = (
                        f"{submission.name!r} is not linked to this paper; add it to the paper's submissions first"
                    )
        if errors:
            raise ValidationError(errors)


class ClaimTolerance(models.Model):
    """How far a measured figure may fall from a claimed one on a benchmark, and still reproduce it.

    Without a row, papers.claims.DEFAULT_TOLERANCES apply (docs/claims.md).
    """

    benchmark = models.OneToOneField(Benchmark, on_delete=models.CASCADE, related_name="claim_tolerance")
    accuracy_abs = models.FloatField(
        default=DEFAULT_ACCURACY_ABS,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="absolute, as a fraction: 0.005 = 0.5 percentage points",
    )
    speedup_rel = models.FloatField(
        default=DEFAULT_SPEEDUP_REL,
        validators=[MinValueValidator(0.0)],
        help_text="relative: 0.10 = within 10 % of the claim",
    )
    compression_ratio_rel = models.FloatField(
        default=DEFAULT_COMPRESSION_RATIO_REL,
        validators=[MinValueValidator(0.0)],
        help_text="relative: 0.10 = within 10 % of the claim",
    )
    size_rel = models.FloatField(
        default=DEFAULT_SIZE_REL,
        validators=[MinValueValidator(0.0)],
        help_text="relative: 0.10 = within 10 % of the claim",
    )
    search_energy_rel = models.FloatField(
        default=DEFAULT_SEARCH_ENERGY_REL,
        validators=[MinValueValidator(0.0)],
        help_text="relative: 0.25 = within 25 % of the claim",
    )

    class Meta:
        verbose_name = "claim tolerance"

    def __str__(self) -> str:
        return f"claim tolerances of {self.benchmark.slug}"
