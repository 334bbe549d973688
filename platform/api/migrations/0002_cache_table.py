"""The database cache's table (FOOTPRINT_CACHE_URL=db, the default), made by `migrate` itself:
every process's throttles and rate limits count in it, so that no deployment can start
without it. Nothing is made when the cache is Redis."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("api", "0001_initial")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
