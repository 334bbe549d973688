"""A stamp that changes whenever something a board page shows changes (PostgreSQL).

The leaderboard page caches its rendered board under the stamp (leaderboard.stamp): a page
read after a change must never be served from before it. The database itself keeps the
stamp, whoever writes (a page, the admin, the API, a runner's report, the triggers of
0002), from every table a board page reads that can change:

- `leaderboard_board_changed` (an immediate statement trigger on each table) marks the
  writing transaction, so that its own later reads bypass the cache (they see what it has
  not yet committed);
- `leaderboard_board_stamp` (a deferred constraint trigger, run at commit) stores a new
  value, once per transaction, in `leaderboard_boardstamp`. The row is written last, at
  commit, so that no transaction waits for it while holding rows another one needs (no
  deadlock), and a reader that sees the new value sees the commit that made it.

Values come from a sequence, so a value is never given twice, even after a test run
empties the tables (the stamp's table is no model's and is left alone by `flush`).
The tables: board entries, submissions (name, division, publishing), user names,
invalidations, results, benchmarks, hardware classes, tracks, papers and their
submissions. Runs, figures and audits are not: what a board shows of them never changes
once a result is stored.

SQLite (the embedded default) has none of this: there the page is built every time.
"""

from __future__ import annotations

from django.db import migrations

TABLES = (
    "leaderboard_boardentry",
    "submissions_submission",
    "submissions_result",
    "submissions_resultinvalidation",
    "benchmarks_benchmark",
    "benchmarks_hardwareclass",
    "budgets_track",
    "papers_paper",
    "papers_paper_submissions",
)

POSTGRESQL = (
    "CREATE SEQUENCE IF NOT EXISTS leaderboard_board_stamp_values",
    """
    CREATE TABLE IF NOT EXISTS leaderboard_boardstamp (
        id smallint PRIMARY KEY CHECK (id = 1),
        value bigint NOT NULL
    )
    """,
    """
    INSERT INTO leaderboard_boardstamp (id, value)
    VALUES (1, nextval('leaderboard_board_stamp_values')) ON CONFLICT (id) DO NOTHING
    """,
    """
    CREATE OR REPLACE FUNCTION leaderboard_board_changed() RETURNS trigger AS $$
    BEGIN
        PERFORM set_config('footprint.board_changed', 'on', true);
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE OR REPLACE FUNCTION leaderboard_board_stamp() RETURNS trigger AS $$
    BEGIN
        IF current_setting('footprint.board_stamped', true) IS DISTINCT FROM 'on' THEN
            INSERT INTO leaderboard_boardstamp (id, value)
            VALUES (1, nextval('leaderboard_board_stamp_values'))
            ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value;
            PERFORM set_config('footprint.board_stamped', 'on', true);
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    # TRUNCATE fires no row trigger (and a constraint trigger cannot follow it): the stamp
    # changes at once, in the truncating transaction, which holds the tables alone anyway.
    """
    CREATE OR REPLACE FUNCTION leaderboard_board_truncated() RETURNS trigger AS $$
    BEGIN
        PERFORM set_config('footprint.board_changed', 'on', true);
        INSERT INTO leaderboard_boardstamp (id, value)
        VALUES (1, nextval('leaderboard_board_stamp_values'))
        ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    *(
        statement
        for table in TABLES
        for statement in (
            f"""
            CREATE TRIGGER {table}_board_changed AFTER INSERT OR UPDATE OR DELETE ON {table}
            FOR EACH STATEMENT EXECUTE PROCEDURE leaderboard_board_changed()
            """,
            f"""
            CREATE CONSTRAINT TRIGGER {table}_board_stamp AFTER INSERT OR UPDATE OR DELETE ON {table}
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE PROCEDURE leaderboard_board_stamp()
            """,
            f"""
            CREATE TRIGGER {table}_board_truncated AFTER TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE PROCEDURE leaderboard_board_truncated()
            """,
        )
    ),
    # A user's name shows on the board; last_login changes at every login and does not.
    """
    CREATE TRIGGER auth_user_board_changed AFTER UPDATE OF username ON auth_user
    FOR EACH STATEMENT EXECUTE PROCEDURE leaderboard_board_changed()
    """,
    """
    CREATE CONSTRAINT TRIGGER auth_user_board_stamp AFTER UPDATE OF username ON auth_user
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.username IS DISTINCT FROM NEW.username)
    EXECUTE PROCEDURE leaderboard_board_stamp()
    """,
)

POSTGRESQL_REVERSE = (
    *(
        statement
        for table in (*TABLES, "auth_user")
        for statement in (
            f"DROP TRIGGER IF EXISTS {table}_board_changed ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_board_stamp ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_board_truncated ON {table}",
        )
    ),
    "DROP FUNCTION IF EXISTS leaderboard_board_truncated()",
    "DROP FUNCTION IF EXISTS leaderboard_board_stamp()",
    "DROP FUNCTION IF EXISTS leaderboard_board_changed()",
    "DROP TABLE IF EXISTS leaderboard_boardstamp",
    "DROP SEQUENCE IF EXISTS leaderboard_board_stamp_values",
)


def _run(statements: tuple[str, ...]):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("leaderboard", "0002_kept_in_step"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("benchmarks", "0006_merge_data_public_and_runner_credentials"),
        ("budgets", "0002_default_tracks"),
        ("papers", "0002_paper_owner"),
        ("submissions", "0008_merge_declared_search_and_runner_credentials"),
    ]

    operations = [migrations.RunPython(_run(POSTGRESQL), _run(POSTGRESQL_REVERSE))]
