"""The bureau's web administrators ask for changes of site records and external redirects
(cms.sitechanges) on networks made before those changes existed."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ("add_sitechange", "change_sitechange")


def grant(apps, schema_editor):
    OrganisationRole = apps.get_model("cms", "OrganisationRole")
    Permission = apps.get_model("auth", "Permission")
    roles = OrganisationRole.objects.filter(
        home_page__content_type__app_label="cms", home_page__content_type__model="portalpage",
        role="administrator")
    if not roles.exists():
        return
    config = apps.get_app_config("sitechanges")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    permissions = Permission.objects.filter(content_type__app_label="sitechanges",
                                            codename__in=CODENAMES)
    for role in roles:
        role.group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0007_account_administrators"),
        ("sitechanges", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
