from django.apps import AppConfig
from wagtail.users.apps import WagtailUsersAppConfig


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = "教育网站群"
    default_auto_field = "django.db.models.BigAutoField"


class UsersAppConfig(WagtailUsersAppConfig):
    """Wagtail's users app with user management confined to one's own organisation."""

    user_viewset = "cms.users.UserViewSet"
