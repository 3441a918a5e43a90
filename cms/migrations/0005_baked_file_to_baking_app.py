"""BakedFile moves to the baking app (cms.baking, label ``baking``): it leaves cms's state
only (its table is taken over and renamed by baking's 0001_initial), and its content type
moves with it, so its permissions and any log entries keep pointing at it."""

from django.db import migrations


def move_content_type(apps, schema_editor, *, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if ContentType.objects.using(db).filter(app_label=target, model="bakedfile").exists():
        return
    ContentType.objects.using(db).filter(app_label=source, model="bakedfile").update(
        app_label=target)


def forwards(apps, schema_editor):
    move_content_type(apps, schema_editor, source="cms", target="baking")


def backwards(apps, schema_editor):
    move_content_type(apps, schema_editor, source="baking", target="cms")


class Migration(migrations.Migration):

    dependencies = [
        ("cms", "0004_baked_file"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="BakedFile")],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
