from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Who manages whom, which roles need which factors, and how accounts are kept to
    等保 level 3 (second factors, lockout, passwords, sessions, dormant accounts)."""

    name = "cms.accounts"
    label = "accounts"
    verbose_name = "账号与安全"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import m2m_changed, post_save, pre_save

        from cms.accounts import passwords, sessions

        User = get_user_model()
        user_logged_in.connect(sessions.on_login, dispatch_uid="accounts_session_start")
        m2m_changed.connect(sessions.on_groups_changed, sender=User.groups.through,
                            dispatch_uid="accounts_sessions_on_roles")
        pre_save.connect(sessions.on_user_saving, sender=User,
                         dispatch_uid="accounts_sessions_on_activation")
        post_save.connect(passwords.on_user_created, sender=User,
                          dispatch_uid="accounts_first_password")
