from django.apps import AppConfig
from django.db.models.signals import post_save, pre_save


class ReviewConfig(AppConfig):
    name = "review"
    verbose_name = "审核与发布登记"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from review.guard import guard_pre_save, register_post_save

        pre_save.connect(guard_pre_save, dispatch_uid="review_publication_guard")
        post_save.connect(register_post_save, dispatch_uid="review_publication_register")
