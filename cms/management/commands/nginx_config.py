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


def render(*, upstream: str, listen: str) -> str:
    """The configuration for these settings; CommandError for any value it cannot carry."""
    static_url = _url_prefix("STATIC_URL", settings.STATIC_URL)
    media_url = _url_prefix("MEDIA_URL", settings.MEDIA_URL)
    session_cookie = settings.SESSION_COOKIE_NAME
    if not _COOKIE_NAME.match(session_cookie):
        raise CommandError(f"SESSION_COOKIE_NAME 只能含字母、数字、_ 和 -：{session_cookie!r}")
    names, default_server = server_names(settings.ALLOWED_HOSTS)
    context = {
        "upstream": parse_upstream(upstream),
        "listen": parse_listen(listen),
        "server_names": names,
        "default_server": default_server,
        "bake_dir": _directory("BAKE_DIR", settings.BAKE_DIR),
        "static_root": _directory("STATIC_ROOT", settings.STATIC_ROOT),
        "media_root": _directory("MEDIA_ROOT", settings.MEDIA_ROOT),
        "static_url": static_url,
        "media_url": media_url,
        "proxied_prefixes": [prefix for prefix in paths.DYNAMIC_PREFIXES
                             if prefix not in (static_url, media_url)],
        "session_cookie": session_cookie,
        "cache_control": _header_value(
            "BAKE_CACHE_CONTROL", getattr(settings, "BAKE_CACHE_CONTROL", DEFAULT_CACHE_CONTROL)),
        "content_language": _header_value("LANGUAGE_CODE", settings.LANGUAGE_CODE),
        "x_frame_options": _header_value("X_FRAME_OPTIONS",
                                         getattr(settings, "X_FRAME_OPTIONS", "DENY")),
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
            "由 nginx 直接读取静态化文件，静态文件和图片由 nginx 提供，其余请求转发给 gunicorn。"
            "路径取自当前设置（BAKE_DIR、STATIC_ROOT、MEDIA_ROOT）。")

    def add_arguments(self, parser):
        parser.add_argument("--upstream", default="127.0.0.1:8000", metavar="HOST:PORT",
                            help="gunicorn 的地址：主机:端口，或 unix:/套接字路径"
                                 "（默认 127.0.0.1:8000）")
        parser.add_argument("--listen", default="80", metavar="PORT_OR_ADDR",
                            help="nginx 监听的端口或“地址:端口”（默认 80）")
        parser.add_argument("--out", metavar="FILE",
                            help="写入此文件（原子替换），如 /etc/nginx/conf.d/cms.conf；"
                                 "默认打印到标准输出")

    def handle(self, *args, upstream, listen, out=None, **options):
        text = render(upstream=upstream, listen=listen)
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
