"""BakedFile, moved here from the cms app (cms 0004_baked_file made its table): taken over
in state only, then its table renamed from cms_bakedfile to baking_bakedfile."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("cms", "0005_baked_file_to_baking_app"),
        ("review", "0008_screening_lexicon"),
        migrations.swappable_dependency(settings.WAGTAIL_PAGE_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="BakedFile",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True,
                                                   serialize=False, verbose_name="ID")),
                        ("site", models.CharField(max_length=255)),
                        ("path", models.CharField(max_length=1024)),
                        ("sha256", models.CharField(max_length=64)),
                        ("size", models.PositiveBigIntegerField()),
                        ("baked_at", models.DateTimeField()),
                        ("entry", models.ForeignKey(
                            blank=True, null=True,
                            on_delete=django.db.models.deletion.PROTECT, related_name="+",
                            to="review.registerentry")),
                        ("page", models.ForeignKey(
                            blank=True, null=True,
                            on_delete=django.db.models.deletion.SET_NULL, related_name="+",
                            to=settings.WAGTAIL_PAGE_MODEL)),
                    ],
                    options={
                        "db_table": "cms_bakedfile",
                        "constraints": [models.UniqueConstraint(
                            fields=("site", "path"), name="one_record_per_baked_file")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="bakedfile", table=None),
    ]
