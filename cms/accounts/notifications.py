"""E-mail about a new signing credential: to its owner (who should know if it was not them)
and to the bureau's account administrators, after the enrolment commits."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from cms.models import Role


def account_administrators():
    return get_user_model()._default_manager.filter(
        is_active=True, groups__organisation_role__role=Role.ACCOUNTS).distinct()


def announce_credential(sender, instance, user=None, **kwargs) -> None:
    owner = instance.user
    when = timezone.localtime(instance.created_at).strftime("%Y-%m-%d %H:%M")
    subject = f"[{settings.WAGTAIL_SITE_NAME}] {owner.get_full_name() or owner.get_username()}" \
              " 登记了新的签名凭证"
    body = (f"账号 {owner.get_username()} 于 {when} 登记了签名凭证“{instance.name}”"
            f"（{instance.get_kind_display()}，密钥 {instance.key_id[:16]}…）。\n"
            "用它签发的审批与本人签名具有同等效力。如非本人操作，请立即在“签名凭证”页吊销，"
            "并联系账号管理员。")
    recipients = {owner.email, *account_administrators().values_list("email", flat=True)}
    addresses = sorted(a for a in recipients if a)
    if addresses:
        transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL,
                                                addresses, fail_silently=True))
