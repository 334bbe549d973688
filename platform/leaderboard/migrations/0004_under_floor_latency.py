# The entries under the accuracy floor by latency: a board read in that order (its most read
# after the ranking) lists them from this index instead of reading the whole table.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('leaderboard', '0003_board_stamp'),
        ('submissions', '0008_merge_declared_search_and_runner_credentials'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='boardentry',
            index=models.Index(condition=models.Q(('failed_audits', 0), ('invalidated', False), ('meets_accuracy_floor', False), ('published', True), ('superseded', False)), fields=['benchmark_id', 'hardware_class_id', 'latency_p50_us'], include=('result', 'division', 'flag_names', 'total_device_hours', 'total_kwh'), name='entry_under_floor_latency'),
        ),
    ]
