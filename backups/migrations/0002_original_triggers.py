"""On PostgreSQL, the database itself keeps originals' manifest rows: no DELETE before the
retention expires or under legal hold, no UPDATE but setting the hold or extending the
retention — whatever the client (the ORM refuses the same on every database)."""

from django.db import migrations

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION backups_keep_original() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.legal_hold OR OLD.retain_until > now() THEN
            RAISE EXCEPTION '原件须保存至 %，不能删除', OLD.retain_until
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN OLD;
    END IF;
    IF (NEW.sha256, NEW.size, NEW.filename, NEW.content_type, NEW.source, NEW.source_url,
        NEW.operator, NEW.object_type_id, NEW.object_id, NEW.category, NEW.created_at)
       IS DISTINCT FROM
       (OLD.sha256, OLD.size, OLD.filename, OLD.content_type, OLD.source, OLD.source_url,
        OLD.operator, OLD.object_type_id, OLD.object_id, OLD.category, OLD.created_at)
       OR NEW.retain_until < OLD.retain_until THEN
        RAISE EXCEPTION '原件登记不能修改' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION, params=None)
    schema_editor.execute(
        "CREATE TRIGGER backups_original_kept BEFORE UPDATE OR DELETE ON backups_original "
        "FOR EACH ROW EXECUTE FUNCTION backups_keep_original()")


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP TRIGGER IF EXISTS backups_original_kept ON backups_original")
    schema_editor.execute("DROP FUNCTION IF EXISTS backups_keep_original()")


class Migration(migrations.Migration):
    dependencies = [("backups", "0001_originals")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
