from django.apps import AppConfig


class InteractionConfig(AppConfig):
    name = "cms.interaction"
    label = "interaction"
    verbose_name = "留言与举报"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from wagtail.signals import page_published

        from cms.interaction.replies import reply_published

        # A public reply counts as the answer once the leader's approval put it live.
        page_published.connect(reply_published, dispatch_uid="interaction_reply_published")
