from django.conf import settings
from django.contrib.auth.models import Permission
from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component

from cms.accounts import audit, reauth, reports, twofactor, views
from cms.accounts.passwords import status_of
from cms.accounts.sessions import after_bulk_action
from cms.accounts.users import check_bulk_action_on_users

hooks.register("before_bulk_action", check_bulk_action_on_users)
hooks.register("after_bulk_action", after_bulk_action)
hooks.register("after_bulk_action", audit.after_bulk_action)
hooks.register("before_enrol_signing_credential", reauth.require_fresh_authentication)
hooks.register("construct_reports_menu", reports.hide_refused_reports)
hooks.register("construct_page_chooser_queryset", reports.confine_page_chooser)


@hooks.register("register_admin_urls")
def register_account_urls():
    return [
        path("accounts/reauthenticate/", reauth.reauthenticate, name="accounts_reauthenticate"),
        path("2fa/", twofactor.manage, name="accounts_2fa_manage"),
        path("2fa/setup/", twofactor.setup, name="accounts_2fa_setup"),
        path("2fa/verify/", twofactor.verify, name="accounts_2fa_verify"),
        path("2fa/passkey/options/", twofactor.passkey_login_options,
             name="accounts_2fa_passkey_options"),
        path("2fa/passkey/verify/", twofactor.passkey_login_verify,
             name="accounts_2fa_passkey_verify"),
        path("2fa/recovery-codes/", twofactor.regenerate_codes,
             name="accounts_2fa_recovery_codes"),
        path("2fa/<int:device_id>/remove/", twofactor.remove, name="accounts_2fa_remove"),
    ]


@hooks.register("register_account_menu_item")
def two_factor_account_menu_item(request):
    return {"url": reverse("accounts_2fa_manage"), "label": "管理第二因子",
            "help_text": "身份验证器、恢复码和安全密钥：登录时的第二因子。"}


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


class PasswordExpiryPanel(Component):
    """On the dashboard, from 14 days before a password expires: how many days are left."""

    name = "password_expiry"
    order = 10
    template_name = "accounts/password_expiry_panel.html"

    def __init__(self, *, days_left: int):
        self.days_left = days_left

    def get_context_data(self, parent_context):
        return {"days_left": self.days_left,
                "max_age_days": settings.ACCOUNTS_PASSWORD_MAX_AGE_DAYS}


@hooks.register("construct_homepage_panels")
def add_password_expiry_panel(request, panels):
    if not request.user.has_usable_password():
        return
    status = status_of(request.user)
    if status.warn:
        panels.insert(0, PasswordExpiryPanel(days_left=status.days_left))
