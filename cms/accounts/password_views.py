"""Where people set passwords in the admin, saying who set whose: Wagtail's account page (a
person's own password) and the user forms (an administrator sets another's)."""

from functools import partial

from wagtail.admin.forms.auth import PasswordChangeForm
from wagtail.admin.views import account

from cms.accounts.passwords import password_set_by_administrator, password_set_by_self


class OwnPasswordChangeForm(PasswordChangeForm):
    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def save(self, commit=True):
        user = super().save(commit=commit)
        password_set_by_self(user=user, request=self.request, via="account_page")
        return user


class OwnPasswordPanel(account.ChangePasswordPanel):
    def __init__(self, request, user, profile):
        super().__init__(request, user, profile)
        self.form_class = partial(OwnPasswordChangeForm, request=request)


class AccountView(account.AccountView):
    """Wagtail's account page, whose password panel notes that the person changed their own
    password (served at Wagtail's own address, see cms/urls.py)."""

    def get_panels(self):
        return [OwnPasswordPanel(self.request, panel.user, panel.profile)
                if type(panel) is account.ChangePasswordPanel else panel
                for panel in super().get_panels()]


class PasswordResetConfirmView(account.PasswordResetConfirmView):
    """Wagtail's e-mailed reset link: whoever holds the mailbox sets their own password
    (served at Wagtail's own address, see cms/urls.py)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        password_set_by_self(user=form.user, request=self.request, via="email_link")
        return response


class PasswordSetInAdminMixin:
    """For Wagtail's user create and edit views: a password typed into the form was set by
    the administrator, so its holder must change it (unless the administrator is the holder)."""

    password_set_on_creation = False

    def save_instance(self):
        instance = super().save_instance()
        if self.form.cleaned_data.get("password1"):
            password_set_by_administrator(user=instance, actor=self.request.user,
                                          request=self.request,
                                          created=self.password_set_on_creation)
        return instance
