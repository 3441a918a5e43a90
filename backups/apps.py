from django.apps import AppConfig


class BackupsConfig(AppConfig):
    name = "backups"
    verbose_name = "原件与备份"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.core import checks
        from django.db.models.signals import post_save, pre_delete

        from backups import originals, retention

        checks.register(retention.check_settings)
        for model in originals.captured_models():
            post_save.connect(originals.capture_on_save, sender=model,
                              dispatch_uid=f"backups_capture_{model._meta.label_lower}")
        pre_delete.connect(originals.refuse_early_deletion,
                           dispatch_uid="backups_refuse_early_deletion")
