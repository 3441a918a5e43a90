"""manage.py nginx_config: the production nginx configuration, rendered with this project's
settings (deploy/nginx/cms.conf.template), printed or written atomically to a file."""

import os
import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.template import Context, Engine

from cms.baking import files, paths
from cms.baking.middleware import DEFAULT_CACHE_CONTROL
from cms.security_headers import permissions_policy, public_content_security_policy

TEMPLATE = Path(__file__).resolve().parents[3] / "deploy" / "nginx" / "cms.conf.template"

_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])"
_HOST_PORT = re.compile(rf"^(?P<host>{_HOST}):(?P<port>[0-9]{{1,5}})$")
_PORT = re.compile(r"^[0-9]{1,5}$")
_UNIX_SOCKET = re.compile(r"^unix:/[^\s;{}\"'$\\]+$")
# Django's ALLOWED_HOSTS patterns that mean the same in nginx's server_name: a name, or
# ".example.cn" for the name and its subdomains.
_SERVER_NAME = re.compile(r"^\.?[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$")
_URL_PREFIX = re.compile(r"^/(?:[A-Za-z0-9._~-]+/)*$")
_COOKIE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
# Printed inside double quotes in the configuration: no quote, escape, variable or control.
_UNSAFE = re.compile(r"[\"\\$\x00-\x1f\x7f]")
# limit_req_zone's rate: requests per second or per minute.
_RATE = re.compile(r"^[1-9][0-9]{0,5}r/[sm]$")
API_PREFIX = "/api/"
# Where passwords are tried (and reset mails asked for): the login limit applies.
LOGIN_PREFIXES = ("/admin/login/", "/admin/password_reset/", "/_util/login/",
                  "/_util/authenticate_with_password/")
LOGIN_BURST = 10
API_BURST = 50


def _port(text: str, what: str) -> int:
    port = int(text)
    if not 1 <= port <= 65535:
        raise CommandError(f"{what}的端口须在 1–65535 之间：{text}")
    return port


def parse_upstream(value: str) -> str:
    """gunicorn's address: HOST:PORT, or unix:/path/to/socket."""
    if _UNIX_SOCKET.match(value):
        return value
    match = _HOST_PORT.match(value)
    if match is None:
        raise CommandError("上游地址须为“主机:端口”（如 127.0.0.1:8000）或 unix:/套接字路径："
                           f"{value!r}")
    _port(match.group("port"), "上游地址")
    return value


def parse_listen(value: str) -> str:
    """nginx's listen address: PORT or ADDRESS:PORT."""
    if _PORT.match(value):
        _port(value, "监听地址")
        return value
    match = _HOST_PORT.match(value)
    if match is None:
        raise CommandError("监听地址须为端口（如 80）或“地址:端口”（如 127.0.0.1:8080）："
                           f"{value!r}")
    _port(match.group("port"), "监听地址")
    return value


def parse_rate(value: str, what: str) -> str:
    if not _RATE.match(value):
        raise CommandError(f"{what}须为“次数r/s”或“次数r/m”（如 30r/m）：{value!r}")
    return value


def _tls_file(option: str, value: str) -> str:
    if not os.path.isabs(value) or _UNSAFE.search(value):
        raise CommandError(f"{option} 须为绝对路径，且不含引号、反斜杠、$ 或控制字符：{value!r}")
    if not os.path.isfile(value):
        raise CommandError(f"{option} 指定的文件不存在：{value}")
    return value


def _https_port_suffix(tls_listen: str) -> str:
    """What the http → https redirect appends to the host name: nothing on port 443."""
    port = tls_listen.rsplit(":", 1)[-1]
    return "" if port == "443" else f":{port}"


def _security_headers(*, tls: bool) -> list[tuple[str, str]]:
    """The headers the application sends with its public pages (SecurityMiddleware, the
    clickjacking and cms.security_headers middlewares), for the files nginx serves itself."""
    headers = [("X-Content-Type-Options", "nosniff"),
               ("X-Frame-Options", _header_value("X_FRAME_OPTIONS",
                                                 getattr(settings, "X_FRAME_OPTIONS", "DENY")))]
    referrer = getattr(settings, "SECURE_REFERRER_POLICY", None)
    if referrer:
        if not isinstance(referrer, str):
            referrer = ",".join(referrer)
        headers.append(("Referrer-Policy", _header_value("SECURE_REFERRER_POLICY", referrer)))
    opener = getattr(settings, "SECURE_CROSS_ORIGIN_OPENER_POLICY", None)
    if opener:
        headers.append(("Cross-Origin-Opener-Policy",
                        _header_value("SECURE_CROSS_ORIGIN_OPENER_POLICY", opener)))
    policy = public_content_security_policy()
    if policy:
        headers.append(("Content-Security-Policy",
                        _header_value("CONTENT_SECURITY_POLICY", policy)))
    features = getattr(settings, "PERMISSIONS_POLICY", None)
    if features:
        headers.append(("Permissions-Policy",
                        _header_value("PERMISSIONS_POLICY",
                                      permissions_policy(features=features))))
    seconds = getattr(settings, "SECURE_HSTS_SECONDS", 0)
    if tls and seconds:
        value = f"max-age={int(seconds)}"
        if getattr(settings, "SECURE_HSTS_INCLUDE_SUBDOMAINS", False):
            value += "; includeSubDomains"
        if getattr(settings, "SECURE_HSTS_PRELOAD", False):
            value += "; preload"
        headers.append(("Strict-Transport-Security", value))
    return headers


def _directory(name: str, value) -> str:
    if not value:
        raise CommandError(f"设置 {name} 为空：无法生成 nginx 配置")
    path = str(value)
    if not os.path.isabs(path) or _UNSAFE.search(path):
        raise CommandError(f"设置 {name} 须为绝对路径，且不含引号、反斜杠、$ 或控制字符：{path!r}")
    return path.rstrip("/") or "/"


def _url_prefix(name: str, value) -> str:
    if not isinstance(value, str) or not _URL_PREFIX.match(value) or value == "/":
        raise CommandError(f"设置 {name} 须为本站路径，如 /static/：{value!r}")
    return value


def _header_value(name: str, value) -> str:
    if not isinstance(value, str) or not value or _UNSAFE.search(value):
        raise CommandError(f"设置 {name} 的值不能用于响应头：{value!r}")
    return value


def server_names(allowed_hosts) -> tuple[str, bool]:
    """nginx's server_name from ALLOWED_HOSTS, and whether this is the default server (when
    any host is allowed)."""
    hosts = list(allowed_hosts)
    if not hosts or "*" in hosts:
        return "_", True
    for host in hosts:
        if not _SERVER_NAME.match(host):
            raise CommandError(f"ALLOWED_HOSTS 中的 {host!r} 不能用作 nginx 的 server_name")
    return " ".join(hosts), False


def render(*, upstream: str, listen: str, tls_listen: str = "443",
           tls_certificate: str | None = None, tls_key: str | None = None,
           login_rate: str = "30r/m", api_rate: str = "20r/s") -> str:
    """The configuration for these settings; CommandError for any value it cannot carry.
    With a certificate and its key, the site is served over https on ``tls_listen`` and
    ``listen`` only redirects to it."""
    if (tls_certificate is None) != (tls_key is None):
        raise CommandError("--tls-certificate 和 --tls-key 须同时给出")
    tls = tls_certificate is not None
    static_url = _url_prefix("STATIC_URL", settings.STATIC_URL)
    media_url = _url_prefix("MEDIA_URL", settings.MEDIA_URL)
    session_cookie = settings.SESSION_COOKIE_NAME
    if not _COOKIE_NAME.match(session_cookie):
        raise CommandError(f"SESSION_COOKIE_NAME 只能含字母、数字、_ 和 -：{session_cookie!r}")
    names, default_server = server_names(settings.ALLOWED_HOSTS)
    context = {
        "upstream": parse_upstream(upstream),
        "listen": parse_listen(listen),
        "tls": tls,
        "tls_listen": parse_listen(tls_listen),
        "https_port_suffix": _https_port_suffix(tls_listen),
        "tls_certificate": _tls_file("--tls-certificate", tls_certificate) if tls else "",
        "tls_key": _tls_file("--tls-key", tls_key) if tls else "",
        "login_rate": parse_rate(login_rate, "登录限速"),
        "api_rate": parse_rate(api_rate, "API 限速"),
        "login_burst": LOGIN_BURST,
        "api_burst": API_BURST,
        "api_prefix": API_PREFIX,
        "login_prefixes": LOGIN_PREFIXES,
        "file_headers": _security_headers(tls=tls),
        "server_names": names,
        "default_server": default_server,
        "bake_dir": _directory("BAKE_DIR", settings.BAKE_DIR),
        "static_root": _directory("STATIC_ROOT", settings.STATIC_ROOT),
        "static_url": static_url,
        "media_url": media_url,
        "proxied_prefixes": [prefix for prefix in paths.DYNAMIC_PREFIXES
                             if prefix not in (static_url, media_url)],
        "session_cookie": session_cookie,
        "cache_control": _header_value(
            "BAKE_CACHE_CONTROL", getattr(settings, "BAKE_CACHE_CONTROL", DEFAULT_CACHE_CONTROL)),
        "content_language": _header_value("LANGUAGE_CODE", settings.LANGUAGE_CODE),
    }
    try:
        source = TEMPLATE.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"找不到模板 {TEMPLATE}（请在源码目录中以 pip install -e . 安装）"
                           ) from None
    # Not HTML: no autoescaping (the values were checked above instead).
    template = Engine(autoescape=False).from_string(source)
    return template.render(Context(context, autoescape=False))


class Command(BaseCommand):
    help = ("生成生产环境的 nginx 配置（deploy/nginx/cms.conf.template）：匿名读者的公开页面"
            "由 nginx 直接读取静态化文件，静态文件由 nginx 提供；上传的文件和图片从不由 nginx "
            "直接读取（应用只提供线上内容签名批准的版本），其余请求转发给 gunicorn。"
            "路径取自当前设置（BAKE_DIR、STATIC_ROOT）。")

    def add_arguments(self, parser):
        parser.add_argument("--upstream", default="127.0.0.1:8000", metavar="HOST:PORT",
                            help="gunicorn 的地址：主机:端口，或 unix:/套接字路径"
                                 "（默认 127.0.0.1:8000）")
        parser.add_argument("--listen", default="80", metavar="PORT_OR_ADDR",
                            help="nginx 监听的端口或“地址:端口”（默认 80）")
        parser.add_argument("--tls-certificate", metavar="PATH",
                            help="TLS 证书（含中间证书链）的绝对路径；与 --tls-key 同时给出时"
                                 "启用 https，--listen 端口只做 http → https 跳转")
        parser.add_argument("--tls-key", metavar="PATH", help="TLS 私钥的绝对路径")
        parser.add_argument("--tls-listen", default="443", metavar="PORT_OR_ADDR",
                            help="https 监听的端口或“地址:端口”（默认 443）")
        parser.add_argument("--login-rate", default="30r/m", metavar="RATE",
                            help="每个地址提交登录和找回密码的速率上限（默认 30r/m，"
                                 f"可突发 {LOGIN_BURST} 次，超出返回 429）")
        parser.add_argument("--api-rate", default="20r/s", metavar="RATE",
                            help="每个地址访问 /api/ 的速率上限（默认 20r/s，"
                                 f"可突发 {API_BURST} 次，超出返回 429）")
        parser.add_argument("--out", metavar="FILE",
                            help="写入此文件（原子替换），如 /etc/nginx/conf.d/cms.conf；"
                                 "默认打印到标准输出")

    def handle(self, *args, upstream, listen, out=None, tls_certificate=None, tls_key=None,
               tls_listen="443", login_rate="30r/m", api_rate="20r/s", **options):
        text = render(upstream=upstream, listen=listen, tls_listen=tls_listen,
                      tls_certificate=tls_certificate, tls_key=tls_key,
                      login_rate=login_rate, api_rate=api_rate)
        if tls_certificate and not getattr(settings, "SECURE_HSTS_SECONDS", 0):
            self.stderr.write("注意：当前设置未启用 HSTS（SECURE_HSTS_SECONDS 为 0），nginx 提供的"
                              "文件不带 Strict-Transport-Security。请用生产设置运行"
                              "（DJANGO_SETTINGS_MODULE=cms.settings.production，CMS_TLS=1）。")
        if out is None:
            self.stdout.write(text, ending="")
            return
        path = Path(out)
        if not path.parent.is_dir():
            raise CommandError(f"目录不存在：{path.parent}")
        try:
            # One rename: nginx (or a reload) never reads half a file.
            files.write_atomically(path=path, data=text.encode(), fsync=True)
        except OSError as error:
            raise CommandError(f"无法写入 {path}：{error}") from error
        self.stdout.write(self.style.SUCCESS(
            f"已写入 {path}。请用 nginx -t 检查后 systemctl reload nginx（或 nginx -s reload）。"))
