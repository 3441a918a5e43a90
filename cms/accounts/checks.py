"""System checks of the two-factor login's configuration."""

from django.conf import settings
from django.core.checks import Error, Warning, register

OTP_MIDDLEWARE = "django_otp.middleware.OTPMiddleware"
SECOND_FACTOR_MIDDLEWARE = "cms.accounts.twofactor.SecondFactorMiddleware"
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"


@register()
def second_factor_middleware(app_configs, **kwargs):
    """The enforcement needs django-otp's middleware after authentication, and ours after
    it."""
    middleware = list(settings.MIDDLEWARE)
    order = [middleware.index(name) if name in middleware else -1
             for name in (AUTH_MIDDLEWARE, OTP_MIDDLEWARE, SECOND_FACTOR_MIDDLEWARE)]
    if -1 in order or order != sorted(order):
        return [Error(f"MIDDLEWARE 须依次包含 {AUTH_MIDDLEWARE}、{OTP_MIDDLEWARE} 和 "
                      f"{SECOND_FACTOR_MIDDLEWARE}，否则第二因子登录不起作用。",
                      id="accounts.E001")]
    return []


@register(deploy=True)
def no_demo_secret_in_production(app_configs, **kwargs):
    if getattr(settings, "ACCOUNTS_DEMO_TOTP_SECRET", "") and not settings.DEBUG:
        return [Warning("ACCOUNTS_DEMO_TOTP_SECRET 只用于开发环境的演示数据，生产环境请删除。",
                        id="accounts.W001")]
    if not getattr(settings, "ACCOUNTS_REQUIRE_SECOND_FACTOR", True):
        return [Warning("ACCOUNTS_REQUIRE_SECOND_FACTOR 为 False：管理员和领导登录不需要第二因子。",
                        id="accounts.W002")]
    return []


@register()
def trusted_proxies(app_configs, **kwargs):
    """``CMS_TRUSTED_PROXIES`` must parse, and its middleware come first (cms.proxy)."""
    from cms.proxy import parse_networks

    try:
        parse_networks(getattr(settings, "CMS_TRUSTED_PROXIES", ()))
    except ValueError as error:
        return [Error(str(error), id="accounts.E002")]
    middleware = list(settings.MIDDLEWARE)
    if middleware and middleware[0] != "cms.proxy.TrustedProxyMiddleware":
        return [Error("MIDDLEWARE 的第一项须为 cms.proxy.TrustedProxyMiddleware，否则锁定、限流和"
                      "安全审计日志会把反向代理当作客户端。", id="accounts.E003")]
    return []
