"""The database keeps BoardEntry.published in step with Submission.published, and
BoardEntry.invalidated with the operators' invalidations, whoever changes them (a page, the
admin, the API, a bulk update): boards then read one table."""

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
    """
    CREATE OR REPLACE FUNCTION leaderboard_entry_invalidated() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            UPDATE leaderboard_boardentry SET invalidated = FALSE WHERE result_id = OLD.result_id;
        ELSE
            UPDATE leaderboard_boardentry SET invalidated = TRUE WHERE result_id = NEW.result_id;
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER leaderboard_entry_invalidated AFTER INSERT OR DELETE ON submissions_resultinvalidation
    FOR EACH ROW EXECUTE PROCEDURE leaderboard_entry_invalidated()
    """,
)
POSTGRESQL_REVERSE = (
    "DROP TRIGGER IF EXISTS leaderboard_entry_published ON submissions_submission",
    "DROP FUNCTION IF EXISTS leaderboard_entry_published()",
    "DROP TRIGGER IF EXISTS leaderboard_entry_invalidated ON submissions_resultinvalidation",
    "DROP FUNCTION IF EXISTS leaderboard_entry_invalidated()",
)
SQLITE = (
    """
    CREATE TRIGGER leaderboard_entry_published AFTER UPDATE OF published ON submissions_submission
    FOR EACH ROW WHEN OLD.published IS NOT NEW.published
    BEGIN
        UPDATE leaderboard_boardentry SET published = NEW.published WHERE submission_id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER leaderboard_entry_invalidated AFTER INSERT ON submissions_resultinvalidation
    FOR EACH ROW
    BEGIN
        UPDATE leaderboard_boardentry SET invalidated = 1 WHERE result_id = NEW.result_id;
    END
    """,
    """
    CREATE TRIGGER leaderboard_entry_revalidated AFTER DELETE ON submissions_resultinvalidation
    FOR EACH ROW
    BEGIN
        UPDATE leaderboard_boardentry SET invalidated = 0 WHERE result_id = OLD.result_id;
    END
    """,
)
SQLITE_REVERSE = (
    "DROP TRIGGER IF EXISTS leaderboard_entry_published",
    "DROP TRIGGER IF EXISTS leaderboard_entry_invalidated",
    "DROP TRIGGER IF EXISTS leaderboard_entry_revalidated",
)


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
