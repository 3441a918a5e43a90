"""The bureau's account administrators (账号管理员): the role choice, and, on a network whose
portal was made before the role existed, the portal's group with its rights."""

from django.contrib.auth.management import create_permissions
from django.db import migrations, models

RIGHTS = [("wagtailadmin", "access_admin"), ("auth", "add_user"), ("auth", "change_user"),
          ("auth", "delete_user"), ("review", "view_securityevent"),
          ("accounts", "unlock_account")]


def _ensure_permissions(apps):
    """Permissions are made after migrations; these must exist now."""
    for label in {app for app, _ in RIGHTS}:
        config = apps.get_app_config(label)
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = None


def add_account_administrators(apps, schema_editor):
    OrganisationRole = apps.get_model("cms", "OrganisationRole")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    portal_roles = OrganisationRole.objects.filter(
        home_page__content_type__app_label="cms", home_page__content_type__model="portalpage",
        role="administrator")
    for administrators in portal_roles:
        _ensure_permissions(apps)
        # The bureau's web administrators read the security audit log too.
        administrators.group.permissions.add(Permission.objects.get(
            content_type__app_label="review", codename="view_securityevent"))
        if OrganisationRole.objects.filter(home_page=administrators.home_page_id,
                                           role="accounts").exists():
            continue
        name = administrators.group.name.rsplit(" ", 1)[0] + " 账号管理员"
        group = Group.objects.create(name=name)
        OrganisationRole.objects.create(group=group, home_page_id=administrators.home_page_id,
                                        role="accounts")
        for app_label, codename in RIGHTS:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                         codename=codename))


class Migration(migrations.Migration):

    dependencies = [
        ('cms', '0006_chinese_help_texts'),
        ('review', '0010_security_checkpoints'),
        ('accounts', '0002_login_lockout'),
        ('wagtailadmin', '0001_create_admin_access_permissions'),
    ]

    operations = [
        migrations.AlterField(
            model_name='organisationrole',
            name='role',
            field=models.CharField(choices=[('administrator', '网站管理员'), ('leader', '领导'), ('teacher', '教师'), ('accounts', '账号管理员')], max_length=16),
        ),
        migrations.RunPython(add_account_administrators, migrations.RunPython.noop),
    ]
