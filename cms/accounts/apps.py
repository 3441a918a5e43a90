from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Who manages whom, which roles need which factors, and how accounts are kept to
    等保 level 3 (second factors, lockout, passwords, sessions, dormant accounts)."""

    name = "cms.accounts"
    label = "accounts"
    verbose_name = "账号与安全"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from cms.accounts import signals

        signals.connect()
