from django.apps import AppConfig
from wagtail.users.apps import WagtailUsersAppConfig


class CmsConfig(AppConfig):
    default = True  # cms/apps.py also holds UsersAppConfig
    name = "cms"
    verbose_name = "教育网站群"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from wagtail.signals import page_published, pre_page_move

        from cms.api import register_api_error_handlers
        from cms.models import ColumnPage
        from cms.structure import apply_structural_change, refuse_direct_column_moves

        register_api_error_handlers()
        _label_site_columns()
        pre_page_move.connect(refuse_direct_column_moves, dispatch_uid="cms_column_moves")
        page_published.connect(apply_structural_change, sender=ColumnPage,
                               dispatch_uid="cms_structural_change")


def _label_site_columns() -> None:
    """Wagtail's sites listing labels two columns with their field names in English ("Site
    name", "Root page": no gettext); use the fields' translated names."""
    from django.utils.text import capfirst
    from wagtail.models import Site
    from wagtail.sites.views import IndexView

    for column in IndexView.columns:
        if column.name in ("site_name", "root_page"):
            column.label = capfirst(Site._meta.get_field(column.name).verbose_name)


class UsersAppConfig(WagtailUsersAppConfig):
    """Wagtail's users app with user management confined to one's own organisation."""

    user_viewset = "cms.accounts.users.UserViewSet"
