from django.apps import AppConfig


class BakingConfig(AppConfig):
    name = "cms.baking"
    label = "baking"
    verbose_name = "静态化"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from cms.baking.signals import connect

        connect()
