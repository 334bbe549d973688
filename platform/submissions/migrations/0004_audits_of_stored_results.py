"""Audits for the results stored before audits were: the runner's `audits` where the stored
document has them, else failed audits read from the flags predictions_differ and
cache_suspected, so that no flagged result stays ranked.

The rules are copied here, not imported from submissions.audits: a migration must keep
doing what it did when it was written, whatever the code becomes.
"""

import math

from django.db import migrations

NOTE = " (Read from the flag {flag}: this result's runner is older than audits.)"
# flag: (audit name, figure, unit, sentence with {value})
FLAG_AUDITS = {
    "predictions_differ": (
        "timed_predictions",
        "prediction_mismatch_rate",
        "fraction",
        "{value} of the timed single-stream replies differ from the accuracy run's predictions for the same "
        "inputs: the model that was timed may not be the model that was scored.",
    ),
    "cache_suspected": (
        "caching",
        "repeat_latency_ratio",
        "ratio",
        "One input sent again and again was answered in {value} the median time of unseen inputs: the server "
        "may remember replies, which makes its latencies look better than a model's.",
    ),
}


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _shown(value, unit):
    if value is None:
        return "n/a"
    return f"{100 * value:.1f}%" if unit == "fraction" else f"{value:.2f}x"


def audits_of_stored_results(apps, schema_editor):
    Result = apps.get_model("submissions", "Result")
    Figure = apps.get_model("submissions", "Figure")
    Audit = apps.get_model("submissions", "Audit")
    for result in Result.objects.filter(audits__isnull=True).iterator():
        document = result.document if isinstance(result.document, dict) else {}
        rows = []
        if isinstance(document.get("audits"), list):
            for entry in document["audits"]:
                rows.append(
                    Audit(
                        result=result,
                        name=entry["name"],
                        subject=entry["subject"],
                        verdict=entry["verdict"],
                        figure=entry.get("figure") or "",
                        value=_number(entry.get("value")),
                        threshold=_number(entry.get("threshold")),
                        unit=entry.get("unit") or "",
                        sentence=entry["sentence"],
                        source="runner",
                    )
                )
        else:
            provenance = result.provenance if isinstance(result.provenance, dict) else {}
            thresholds = provenance.get("flag_thresholds") if isinstance(provenance.get("flag_thresholds"), dict) else {}
            for flag in result.flags or []:
                if flag not in FLAG_AUDITS:
                    continue
                name, figure_name, unit, sentence = FLAG_AUDITS[flag]
                figure = Figure.objects.filter(result=result, subject="submission", name=figure_name).first()
                value = figure.value if figure is not None else None
                rows.append(
                    Audit(
                        result=result,
                        name=name,
                        subject="submission",
                        verdict="failed",
                        figure=figure_name,
                        value=value,
                        threshold=_number(thresholds.get(figure_name)),
                        unit=unit,
                        sentence=sentence.format(value=_shown(value, unit)) + NOTE.format(flag=flag),
                        source="flag",
                    )
                )
        Audit.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ("submissions", "0003_audits_and_invalidation"),
    ]

    operations = [
        # Backwards: 0003's reverse drops the audits table with these rows.
        migrations.RunPython(audits_of_stored_results, migrations.RunPython.noop),
    ]
