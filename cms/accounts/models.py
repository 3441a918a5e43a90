"""Account records beyond Django's user (kept by the identity modules of this app)."""

from axes.models import AccessAttempt


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
