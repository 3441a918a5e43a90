"""On PostgreSQL, the database itself refuses UPDATE and DELETE of register entries and
checkpoints, whatever the client (the ORM refuses them too, on every database). TRUNCATE is
left to the table's owner (test databases are flushed with it); run the application as a role
that does not own the tables."""

from django.db import migrations

TABLES = ("review_registerentry", "review_checkpoint")

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION review_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '发布登记只能追加，不可修改或删除 (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION, params=None)  # its % are PL/pgSQL's, not ours
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION review_refuse_change()")


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS review_refuse_change()")


class Migration(migrations.Migration):
    dependencies = [("review", "0005_checkpoints")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
