from django.contrib.auth.models import Permission
from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from cms.accounts import views


@hooks.register("register_admin_urls")
def lockout_urls():
    return [
        path("accounts/lockouts/", views.lockouts, name="accounts_lockouts"),
        path("accounts/lockouts/unlock/", views.unlock_view, name="accounts_unlock"),
    ]


class UnlockersMenuItem(MenuItem):
    def is_shown(self, request):
        return views.may_unlock(request.user)


@hooks.register("register_settings_menu_item")
def lockouts_menu_item():
    return UnlockersMenuItem("登录锁定", reverse("accounts_lockouts"), name="lockouts",
                             icon_name="lock", order=610)


@hooks.register("register_permissions")
def unlock_permission():
    """Grantable to a group in the admin's group editor."""
    return Permission.objects.filter(content_type__app_label="accounts",
                                     codename="unlock_account")
