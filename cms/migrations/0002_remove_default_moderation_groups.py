"""Remove Wagtail's default Moderators and Editors groups and the workflow built on them.

They hold add/change/publish rights on the root page: anyone put in them could publish any
school's page without the administrator's first review and the leader's approval. Rights
here are granted per organisation instead (cms.organisations).
"""

from django.db import migrations

DEFAULT_GROUPS = ("Moderators", "Editors")


def remove_default_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    GroupApprovalTask = apps.get_model("wagtailcore", "GroupApprovalTask")

    groups = Group.objects.filter(name__in=DEFAULT_GROUPS)
    tasks = GroupApprovalTask.objects.filter(groups__in=groups).distinct()
    workflows = Workflow.objects.filter(workflow_tasks__task__in=tasks).distinct()
    for workflow in workflows:
        workflow.workflow_pages.all().delete()
        workflow.active = False
        workflow.save(update_fields=["active"])
    tasks.update(active=False)
    groups.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0001_initial"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("wagtailimages", "0027_image_description"),
        ("wagtailadmin", "0006_formstate"),
    ]

    operations = [migrations.RunPython(remove_default_groups, migrations.RunPython.noop)]
