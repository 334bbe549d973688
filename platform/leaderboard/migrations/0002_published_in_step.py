"""The database keeps BoardEntry.published in step with Submission.published, whoever changes
it (a page, the admin, the API, a bulk update): boards then filter one table."""

from __future__ import annotations

from django.db import migrations

POSTGRESQL = (
    """
    CREATE OR REPLACE FUNCTION leaderboard_entry_published() RETURNS trigger AS $$
    BEGIN
        UPDATE leaderboard_boardentry SET published = NEW.published WHERE submission_id = NEW.id;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER leaderboard_entry_published AFTER UPDATE OF published ON submissions_submission
    FOR EACH ROW WHEN (OLD.published IS DISTINCT FROM NEW.published)
    EXECUTE PROCEDURE leaderboard_entry_published()
    """,
)
POSTGRESQL_REVERSE = (
    "DROP TRIGGER IF EXISTS leaderboard_entry_published ON submissions_submission",
    "DROP FUNCTION IF EXISTS leaderboard_entry_published()",
)
SQLITE = (
    """
    CREATE TRIGGER leaderboard_entry_published AFTER UPDATE OF published ON submissions_submission
    FOR EACH ROW WHEN OLD.published IS NOT NEW.published
    BEGIN
        UPDATE leaderboard_boardentry SET published = NEW.published WHERE submission_id = NEW.id;
    END
    """,
)
SQLITE_REVERSE = ("DROP TRIGGER IF EXISTS leaderboard_entry_published",)


def _run(statements: dict[str, tuple[str, ...]]):
    def run(apps, schema_editor) -> None:
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise RuntimeError(f"no trigger keeps board entries in step on {vendor}; write one in this migration")
        for statement in statements[vendor]:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("leaderboard", "0001_board_entries"),
        ("submissions", "0006_declared_search_and_description_limit"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
