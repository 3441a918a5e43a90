from django.conf import settings
from wagtail import hooks
from wagtail.admin.ui.components import Component

from cms.accounts.passwords import status_of
from cms.accounts.sessions import after_bulk_action

hooks.register("after_bulk_action", after_bulk_action)


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
