"""Quotas in the database: how many submissions a user makes a day, how many runs they have
queued or running at once (issue: anyone who signs up could otherwise queue unlimited jobs
of hours on every hardware class).

Throttles in a cache are racy; these counts are read inside the transaction that creates
the submission or the run, after locking the user's row, so that two uploads at once
cannot both pass the last free place. Runs that failed for the platform's reasons (its
runner was lost, its infrastructure failed) are not charged: a submission whose runs all
ended that way does not count against the day.

Limits (submissions.models.Quota): the settings' defaults, replaced per user by a row
naming the user only; a row naming a benchmark adds limits counted on that benchmark only,
for everyone or for one user. The web upload and the API both go through quota_check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from benchmarks.models import Benchmark, HardwareClass
from submissions.models import Quota, Run, Submission

DAY = timedelta(days=1)
# Failure codes that are the platform's fault, not the submission's: never charged.
PLATFORM_FAILURE_CODES = frozenset(
    {
        "runner_lost",
        "runner_silent",
        "runner_error",
        "docker_unavailable",
        "freeze_failed",
        "invalid_job_spec",
        "invalid_result_document",
        "unsupported_location",
        "benchmark_data_missing",
        "image_missing",
    }
)
# When a run finishes is not known in advance: a client told to wait for one asks again after this.
ACTIVE_RUNS_RETRY_S = 60


class QuotaExceeded(Exception):
    """A quota refuses the action; `retry_after_s` says when it frees (None: not by waiting)."""

    def __init__(self, message: str, *, quota: str, limit: int, used: int, retry_after_s: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.quota = quota  # "submissions_per_day" | "active_runs"
        self.limit = limit
        self.used = used
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Limits:
    """The limits that apply to one user on one benchmark; None: no limit of that kind."""

    submissions_per_day: int | None
    active_runs: int | None
    # Counted on the benchmark only; None when no rule names the benchmark.
    benchmark_submissions_per_day: int | None
    benchmark_active_runs: int | None


def _pick(rows: list[Quota | None], field: str, default: int | None) -> int | None:
    for row in rows:
        value = getattr(row, field) if row is not None else None
        if value is not None:
            return value
    return default


def quota_limits(*, user: AbstractBaseUser, benchmark: Benchmark | None) -> Limits:
    """The limits of `user` on `benchmark` (one query); benchmark None: the user's own only."""
    rows = list(Quota.objects.filter(Q(user=user) | Q(user__isnull=True), Q(benchmark=benchmark) | Q(benchmark=None)))
    by_key = {(row.user_id, row.benchmark_id): row for row in rows}
    own = by_key.get((user.pk, None))
    pair = by_key.get((user.pk, benchmark.pk)) if benchmark is not None else None
    everyone_here = by_key.get((None, benchmark.pk)) if benchmark is not None else None
    return Limits(
        submissions_per_day=_pick([own], "submissions_per_day", settings.FOOTPRINT_QUOTA_SUBMISSIONS_PER_DAY),
        active_runs=_pick([own], "active_runs", settings.FOOTPRINT_QUOTA_ACTIVE_RUNS),
        benchmark_submissions_per_day=_pick([pair, everyone_here], "submissions_per_day", None),
        benchmark_active_runs=_pick([pair, everyone_here], "active_runs", None),
    )


def charged_submissions(*, user: AbstractBaseUser, since: datetime) -> QuerySet[Submission]:
    """The user's submissions since `since` that count against the day: all but those with
    runs that all failed for the platform's reasons."""
    runs = Run.objects.filter(submission=OuterRef("pk"))
    charged_run = runs.exclude(state=Run.FAILED, failure_code__in=PLATFORM_FAILURE_CODES)
    return Submission.objects.filter(owner=user, created__gte=since).filter(Q(Exists(charged_run)) | ~Exists(runs))


def active_runs(*, user: AbstractBaseUser) -> QuerySet[Run]:
    return Run.objects.filter(submission__owner=user, state__in=Run.ACTIVE_STATES)


def _where(benchmark: Benchmark | None) -> str:
    return f" on {benchmark.slug}" if benchmark is not None else ""


def _check_day(*, user: AbstractBaseUser, benchmark: Benchmark | None, limit: int | None, now: datetime) -> None:
    if limit is None:
        return
    charged = charged_submissions(user=user, since=now - DAY)
    if benchmark is not None:
        charged = charged.filter(benchmark=benchmark)
    created = list(charged.order_by("created").values_list("created", flat=True))
    if len(created) < limit:
        return
    if limit == 0:
        raise QuotaExceeded(
            f"your quota of submissions{_where(benchmark)} is 0: an operator has to raise it",
            quota="submissions_per_day",
            limit=limit,
            used=len(created),
            retry_after_s=None,
        )
    # The place frees once enough of the oldest charged submissions leave the 24 hours.
    frees_at = created[len(created) - limit] + DAY
    retry_after_s = max(1, int((frees_at - now).total_seconds()) + 1)
    raise QuotaExceeded(
        f"you made {len(created)} submissions{_where(benchmark)} in the last 24 hours, the most your quota "
        f"allows; the next one is possible at {frees_at:%Y-%m-%d %H:%M:%S} UTC (submissions whose runs "
        "failed for the platform's reasons are not counted)",
        quota="submissions_per_day",
        limit=limit,
        used=len(created),
        retry_after_s=retry_after_s,
    )


def _check_active(*, user: AbstractBaseUser, benchmark: Benchmark | None, limit: int | None, new_runs: int) -> None:
    if limit is None or new_runs == 0:
        return
    runs = active_runs(user=user)
    if benchmark is not None:
        runs = runs.filter(submission__benchmark=benchmark)
    used = runs.count()
    if used + new_runs <= limit:
        return
    wanted = f"{new_runs} more run{'s' if new_runs != 1 else ''}"
    raise QuotaExceeded(
        f"you have {used} run{'s' if used != 1 else ''} queued or running{_where(benchmark)} and your quota "
        f"allows {limit} at once, so {wanted} cannot be queued; try again once some have finished",
        quota="active_runs",
        limit=limit,
        used=used,
        retry_after_s=ACTIVE_RUNS_RETRY_S if limit > 0 else None,
    )


def quota_check(
    *,
    user: AbstractBaseUser,
    benchmark: Benchmark | None,
    new_submission: bool,
    new_runs: int,
    now: datetime | None = None,
) -> None:
    """Raise QuotaExceeded when `user` may not add a submission and `new_runs` runs on
    `benchmark`. Call it inside the transaction that adds them, after quota_lock.

    `benchmark` None checks the limits over all benchmarks only: an upload asks that before
    it streams gigabytes that a full quota would refuse anyway.
    """
    now = now or timezone.now()
    limits = quota_limits(user=user, benchmark=benchmark)
    if new_submission:
        _check_day(user=user, benchmark=None, limit=limits.submissions_per_day, now=now)
    _check_active(user=user, benchmark=None, limit=limits.active_runs, new_runs=new_runs)
    if benchmark is not None:
        if new_submission:
            _check_day(user=user, benchmark=benchmark, limit=limits.benchmark_submissions_per_day, now=now)
        _check_active(user=user, benchmark=benchmark, limit=limits.benchmark_active_runs, new_runs=new_runs)


def quota_precheck(*, user: AbstractBaseUser) -> None:
    """quota_check before an upload streams in, when its benchmark is not known yet: the
    limits over all benchmarks, for a submission with a run on each active class."""
    classes = HardwareClass.objects.filter(active=True).count()
    quota_check(user=user, benchmark=None, new_submission=True, new_runs=classes)


def quota_lock(*, user: AbstractBaseUser) -> None:
    """Lock the user's row until the transaction ends: quota checks of one user run one at a
    time (PostgreSQL; SQLite's write transactions are serialized already)."""
    list(get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
