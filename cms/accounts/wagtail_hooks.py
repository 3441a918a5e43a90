from django.urls import path
from wagtail import hooks

from cms.accounts import reauth, reports
from cms.accounts.users import check_bulk_action_on_users

hooks.register("before_bulk_action", check_bulk_action_on_users)
hooks.register("before_enrol_signing_credential", reauth.require_fresh_authentication)
hooks.register("construct_reports_menu", reports.hide_refused_reports)
hooks.register("construct_page_chooser_queryset", reports.confine_page_chooser)


@hooks.register("register_admin_urls")
def register_account_urls():
    return [
        path("accounts/reauthenticate/", reauth.reauthenticate, name="accounts_reauthenticate"),
    ]
