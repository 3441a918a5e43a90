from django.apps import AppConfig
from wagtail.users.apps import WagtailUsersAppConfig


class CmsConfig(AppConfig):
    default = True  # cms/apps.py also holds UsersAppConfig
    name = "cms"
    verbose_name = "教育网站群"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from cms.api import register_api_error_handlers

        register_api_error_handlers()


class UsersAppConfig(WagtailUsersAppConfig):
    """Wagtail's users app with user management confined to one's own organisation."""

    user_viewset = "cms.users.UserViewSet"
