from django.apps import AppConfig
from django.db.models.signals import post_save, pre_delete, pre_save


class ReviewConfig(AppConfig):
    name = "review"
    verbose_name = "审核与发布登记"
    default_auto_field = "django.db.models.BigAutoField"

    # The imports in these methods are inside them because they load models (and modules that
    # import models), which Django allows only once the app registry is ready.

    def ready(self):
        from django.core import checks
        from wagtail.models import Revision

        from review.checks import check_log_retention
        from review.pipeline.guard import (
            guard_pre_delete,
            guard_pre_save,
            guard_revision_schedule,
            register_post_save,
        )

        pre_save.connect(guard_pre_save, dispatch_uid="review_publication_guard")
        post_save.connect(register_post_save, dispatch_uid="review_publication_register")
        pre_delete.connect(guard_pre_delete, dispatch_uid="review_deletion_guard")
        self._connect_used_files()
        pre_save.connect(guard_revision_schedule, sender=Revision,
                         dispatch_uid="review_schedule_guard")
        self._connect_audience()
        self._replace_workflow_notifications()
        self._connect_approval_voiding()
        self._connect_screening()
        self._connect_credentials()
        self._connect_health()
        checks.register(check_log_retention)

    def _connect_used_files(self):
        from wagtail.documents import get_document_model
        from wagtail.images import get_image_model

        from review.pipeline.files import refuse_deleting_used

        # Every way of deleting a document or image — the admin's views and bulk action, API
        # v3, ``delete()`` of an object or a queryset — sends pre_delete for each one first.
        for model in (get_document_model(), get_image_model()):
            pre_delete.connect(refuse_deleting_used, sender=model,
                               dispatch_uid=f"review_keep_used_{model._meta.label_lower}")

    def _connect_audience(self):
        from review.pipeline.audience_guard import connect

        connect()

    def _connect_approval_voiding(self):
        from wagtail.models import WorkflowState
        from wagtail.signals import task_submitted, workflow_cancelled, workflow_rejected

        from review.pipeline.actions import void_after_workflow_change

        for signal, uid in ((workflow_rejected, "review_void_approvals_rejected"),
                            (workflow_cancelled, "review_void_approvals_cancelled")):
            signal.connect(void_after_workflow_change, sender=WorkflowState, dispatch_uid=uid)
        task_submitted.connect(void_after_workflow_change,
                               dispatch_uid="review_void_approvals_task_submitted")

    def _connect_credentials(self):
        from django.conf import settings

        from review.pipeline.credentials import revoke_on_password_reset

        pre_save.connect(revoke_on_password_reset, sender=settings.AUTH_USER_MODEL,
                         dispatch_uid="review_revoke_on_password_reset")

    def _connect_health(self):
        from wagtail.signals import published

        from review.health.tasks import on_published

        # External links are fingerprinted when what links to them is approved and published
        # (Wagtail sends ``published`` for pages too, after ``page_published``).
        published.connect(on_published, dispatch_uid="review_health_fingerprint")

    def _connect_screening(self):
        from django.db.models.signals import post_delete
        from wagtail.models import Revision

        from review.screening.models import (
            AllowListEntry,
            LexiconEntry,
            ProtectedName,
            TypoEntry,
            WordingRule,
        )
        from review.screening.rescan import on_lexicon_change
        from review.screening.sanitising import sanitise_on_save, sanitise_revision

        for model in (LexiconEntry, AllowListEntry, ProtectedName, WordingRule, TypoEntry):
            post_save.connect(on_lexicon_change, sender=model,
                              dispatch_uid=f"review_rescan_on_{model.__name__}_save")
            post_delete.connect(on_lexicon_change, sender=model,
                                dispatch_uid=f"review_rescan_on_{model.__name__}_delete")
        # HTML is sanitised where every path stores content: a model's save (the ORM, imports,
        # publishing) and a revision's (the admin, the API, drafts).
        pre_save.connect(sanitise_on_save, dispatch_uid="review_sanitise_html")
        pre_save.connect(sanitise_revision, sender=Revision,
                         dispatch_uid="review_sanitise_revision_html")

    def _replace_workflow_notifications(self):
        """Swap Wagtail's workflow e-mails for ours. Runs after wagtail.admin's ready(),
        which connects them (review comes after it in INSTALLED_APPS)."""
        from wagtail.models import TaskState, WorkflowState
        from wagtail.signals import (
            task_submitted,
            workflow_approved,
            workflow_rejected,
            workflow_submitted,
        )

        from review.pipeline import notifications

        task_submitted.disconnect(sender=TaskState,
                                  dispatch_uid="group_approval_task_submitted_email_notification")
        for signal, uid in ((workflow_submitted, "workflow_state_submitted_email_notification"),
                            (workflow_rejected, "workflow_state_rejected_email_notification"),
                            (workflow_approved, "workflow_state_approved_email_notification")):
            signal.disconnect(sender=WorkflowState, dispatch_uid=uid)
        task_submitted.connect(notifications.on_task_submitted,
                               dispatch_uid="review_task_submitted")
        workflow_rejected.connect(notifications.on_workflow_rejected, sender=WorkflowState,
                                  dispatch_uid="review_workflow_rejected")
        workflow_approved.connect(notifications.on_workflow_approved, sender=WorkflowState,
                                  dispatch_uid="review_workflow_approved")
