"""Account records beyond Django's user (kept by the identity modules of this app)."""

from django.conf import settings
from django.db import models


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
