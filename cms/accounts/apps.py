from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Who manages whom, which roles need which factors, and how accounts are kept to
    等保 level 3 (second factors, lockout, passwords, sessions, dormant accounts)."""

    name = "cms.accounts"
    label = "accounts"
    verbose_name = "账号与安全"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from cms.accounts import (
            checks,  # noqa: F401  (registers the system checks)
            signals,
        )

        self._connect_audit()
        signals.connect()  # logins, lockouts, API tokens
        self._connect_sessions_and_passwords()

    def _connect_sessions_and_passwords(self):
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

    def _connect_audit(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
        from wagtail.models import APIToken

        from cms.accounts import audit, notifications, tokens
        from review.pipeline.signals import credential_enrolled

        User = get_user_model()
        pre_save.connect(audit.on_user_pre_save, sender=User, dispatch_uid="accounts_pre_save")
        post_save.connect(audit.on_user_post_save, sender=User,
                          dispatch_uid="accounts_post_save")
        post_delete.connect(audit.on_user_post_delete, sender=User,
                            dispatch_uid="accounts_post_delete")
        m2m_changed.connect(audit.on_groups_changed, sender=User.groups.through,
                            dispatch_uid="accounts_groups_changed")
        pre_save.connect(tokens.refuse_tokens_for_others, sender=APIToken,
                         dispatch_uid="accounts_tokens_for_others")
        credential_enrolled.connect(notifications.announce_credential,
                                    dispatch_uid="accounts_announce_credential")
