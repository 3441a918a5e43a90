"""Account records beyond Django's user (kept by the identity modules of this app).

Second factors are django-otp devices: TOTP is django-otp's own ``TOTPDevice``; the two
below are ours. Recovery codes are kept hashed (django-otp's static tokens are plain text),
and a passkey device stands for a leader's WebAuthn signing credential used at login.
"""

from axes.models import AccessAttempt
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin

from cms.accounts.factors import hash_recovery_code, recovery_code_matches


class RecoveryCodeDevice(ThrottlingMixin, Device):
    """A user's set of one-time recovery codes (one device per user): each code verifies
    once; only salted digests are stored."""

    class Meta:
        verbose_name = "恢复码"
        verbose_name_plural = "恢复码"

    def get_throttle_factor(self) -> int:
        return getattr(settings, "ACCOUNTS_RECOVERY_THROTTLE_FACTOR", 1)

    def remaining(self) -> int:
        return self.codes.filter(used_at=None).count()

    @transaction.atomic
    def replace_codes(self, *, codes: list[str]) -> None:
        """The user's codes become ``codes`` (old ones, used or not, stop working)."""
        self.codes.all().delete()
        RecoveryCode.objects.bulk_create(
            RecoveryCode(device=self, digest=hash_recovery_code(code=code)) for code in codes)

    def verify_token(self, token) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        for code in self.codes.select_for_update().filter(used_at=None):
            if recovery_code_matches(code=str(token), stored=code.digest):
                code.used_at = timezone.now()
                code.save(update_fields=["used_at"])
                self.throttle_reset()
                return True
        self.throttle_increment()
        return False


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE,
                               related_name="codes")
    digest = models.CharField(max_length=128)  # sha256$<salt>$<hex>
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "恢复码"
        verbose_name_plural = "恢复码"

    def __str__(self):
        return f"恢复码（{'已使用' if self.used_at else '未使用'}）"


class PasskeyDevice(Device):
    """A leader's WebAuthn signing credential (review) serving as their second factor: the
    device django-otp records in the session once an assertion by that key verified. It
    takes no typed tokens; a revoked credential no longer verifies a session."""

    credential = models.OneToOneField("review.SigningCredential", on_delete=models.CASCADE,
                                      related_name="+")

    class Meta:
        verbose_name = "安全密钥（第二因子）"
        verbose_name_plural = "安全密钥（第二因子）"

    def verify_token(self, token) -> bool:
        return False

    @property
    def usable(self) -> bool:
        return self.confirmed and self.credential.revoked_at is None


class LoginLockout(AccessAttempt):
    """Axes' failed-login records, seen as the lockouts they add up to (cms.accounts.lockout):
    holds the permission to lift a lockout early, which the bureau's account administrators
    are granted."""

    class Meta:
        proxy = True
        default_permissions = ()
        permissions = [("unlock_account", "解除登录锁定")]
        verbose_name = "登录锁定"
        verbose_name_plural = "登录锁定"


class AccountState(models.Model):
    """What the account policies (等保 8.1.4.1) keep about one user: when the password was
    last set and whether its holder must change it, and the generation of the user's
    sessions (a session carrying an older generation is ended)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="account_state", verbose_name="用户")
    password_changed_at = models.DateTimeField("密码设置时间", null=True, blank=True)
    must_change_password = models.BooleanField(
        "须修改密码", default=False,
        help_text="密码由他人（管理员新建账号或重置密码）设置，持有人登录后须先修改。")
    session_generation = models.PositiveIntegerField(
        "会话代数", default=0,
        help_text="角色变更、停用时加一：此前登录的会话全部失效。")
    reactivated_at = models.DateTimeField(
        "重新启用时间", null=True, blank=True,
        help_text="停用后重新启用的时间：长期未登录的计算从此时起。")

    class Meta:
        verbose_name = "账号状态"
        verbose_name_plural = "账号状态"

    def __str__(self):
        return f"{self.user}"


class PasswordHistory(models.Model):
    """The hashes of a user's recent passwords (never the passwords), to refuse reuse."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="password_history", verbose_name="用户")
    password = models.CharField("密码哈希", max_length=128)
    created_at = models.DateTimeField("设置时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "历史密码"
        verbose_name_plural = "历史密码"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.user} @ {self.created_at:%Y-%m-%d %H:%M}"
