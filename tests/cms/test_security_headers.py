"""Security headers: HSTS and the https redirect, the Content-Security-Policy (none of the
public site's markup is inline script; the Wagtail admin's policy), Permissions-Policy; the
same headers from nginx on the files it serves, its TLS server, http → https and rate limits
(Debian's nginx with a self-signed certificate); `check --deploy` clean with production
settings.

The application's tests run on the demo network under production's values of the settings
(PRODUCTION, which test_production_settings checks against cms/settings/production.py itself);
they live in test_demo_network.py, which builds the demo once for both."""

import base64
import hashlib
import http.client
import io
import json
import os
import re
import secrets
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.template.loader import render_to_string
from wagtail.models import Page

from cms.baking.listing import ARTICLES_PER_PAGE
from cms.models import ArticlePage, ColumnPage
from cms.security_headers import permissions_policy, public_content_security_policy
from tests.baking.test_nginx import NGINX, free_port, write_main_config
from tests.shared import engine_independent

ROOT = Path(__file__).resolve().parents[2]
ONE_YEAR = 365 * 24 * 3600
# What cms/settings/production.py sets with CMS_TLS on (the default).
PRODUCTION = {
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": ONE_YEAR,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": False,
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SECURE_CONTENT_TYPE_NOSNIFF": True,
    "SECURE_REFERRER_POLICY": "same-origin",
}
HTTPS = {"HTTP_X_FORWARDED_PROTO": "https"}
HSTS = f"max-age={ONE_YEAR}; includeSubDomains"


def directives(header: str) -> dict[str, list[str]]:
    """A Content-Security-Policy header as {directive: [sources]}."""
    parsed = {}
    for part in filter(None, (p.strip() for p in header.split(";"))):
        name, *sources = part.split()
        assert name not in parsed, f"{name} twice in {header}"
        parsed[name] = sources
    return parsed


# --- pure functions ---------------------------------------------------------------------------

def test_permissions_policy_syntax():
    assert permissions_policy(features={"camera": [], "publickey-credentials-get": ["self"],
                                        "fullscreen": ["self", "https://a.example"]}) == (
        'camera=(), publickey-credentials-get=(self), fullscreen=(self "https://a.example")')
    with pytest.raises(TypeError):
        permissions_policy(features={"camera": "self"})


# --- the application --------------------------------------------------------------------------

def get(client, url: str, **extra):
    """GET a page's full URL (its site's host and port) over https behind nginx."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return client.get(path, HTTP_HOST=parts.netloc, **{**HTTPS, **extra})


class InlineCode(HTMLParser):
    """Everything in a document that a CSP without 'unsafe-inline' would refuse."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        data_only = (attributes.get("type") or "").lower() in ("application/json",
                                                               "application/ld+json")
        if tag == "script" and not attributes.get("src") and not data_only:
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            if name == "style":
                self.found.append(f"{tag} style=")
            if name in ("href", "src", "action", "formaction") and value and re.match(
                    r"\s*javascript:", value, re.I):
                self.found.append(f"{tag} {name}=javascript:")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found


def public_urls() -> list[str]:
    """Every live public page of the demo, the second page of the listings that have one,
    each site's search page and a page that does not exist there (the 404 page)."""
    urls = []
    for page in Page.objects.live().public().filter(depth__gte=2).specific():
        url = page.get_full_url()
        urls.append(url)
        if isinstance(page, ColumnPage) and ArticlePage.objects.child_of(page).live().count(
                ) > ARTICLES_PER_PAGE:
            urls.append(f"{url}?page=2")
        if page.depth == 2:
            urls += [f"{url}search/?q=学校", f"{url}no-such-page/"]
    return urls




def test_the_detector_finds_inline_code():
    # The check above can fail: each form of inline code it looks for is found.
    found = inline_code('<script>alert(1)</script><script src="/a.js"></script>'
                        '<script type="application/json">{}</script><a onclick="x()" '
                        'href=" JavaScript:x()">a</a><p style="color:red"></p><style>p{}</style>')
    assert found == ["<script> without src", "a onclick=", "a href=javascript:", "p style=",
                     "<style>"]


def test_the_500_pages_inline_style_is_allowed_by_its_hash():
    html = render_to_string("500.html")
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert styles, "the 500 page has no inline style: drop its hash from the policy"
    allowed = directives(public_content_security_policy())["style-src"]
    for style in styles:
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed
    assert inline_code(html) == ["<style>"] * len(styles)




def admin_headers_are_the_admins(response) -> None:
    policy = directives(response["Content-Security-Policy"])
    # Wagtail 8's admin needs inline scripts and styles; nothing from any other origin.
    assert policy["script-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'self'"] and policy["form-action"] == ["'self'"]
    assert "'unsafe-eval'" not in str(policy)
    for sources in policy.values():
        assert all(s.startswith("'") or s in ("data:", "blob:") for s in sources), policy
    assert "publickey-credentials-get=(self)" in response["Permissions-Policy"]
    assert "publickey-credentials-create=(self)" in response["Permissions-Policy"]
    assert response["Strict-Transport-Security"] == HSTS






# --- production settings and check --deploy ---------------------------------------------------

def run_production(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "CMS_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT,
        capture_output=True, text=True, timeout=120,
        env={**clean, "DJANGO_SETTINGS_MODULE": "cms.settings.production",
             "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
             "DJANGO_ALLOWED_HOSTS": "www.edu.example.cn,.edu.example.cn", **env})


CHECK_DEPLOY = ("from django.core.management import call_command; "
                "call_command('check', deploy=True, fail_level='WARNING')")


@engine_independent  # a new process, given no DATABASE_URL
def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = run_production(CHECK_DEPLOY, CMS_DATA_DIR=str(tmp_path), CMS_TLS="1")
    assert result.returncode == 0, result.stderr
    # W021 (HSTS preload) is silenced while preloading is not chosen (CMS_HSTS_PRELOAD).
    assert result.stdout.strip() == "System check identified no issues (1 silenced)."

    preload = run_production(CHECK_DEPLOY, CMS_DATA_DIR=str(tmp_path), CMS_HSTS_PRELOAD="1")
    assert preload.returncode == 0, preload.stderr
    assert preload.stdout.strip() == "System check identified no issues (0 silenced)."


@engine_independent  # a new process, given no DATABASE_URL
def test_check_deploy_says_what_plain_http_gives_up(tmp_path):
    result = run_production(CHECK_DEPLOY, CMS_DATA_DIR=str(tmp_path), CMS_TLS="0")
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr, warning
    bad = run_production("", CMS_DATA_DIR=str(tmp_path), CMS_TLS="maybe")
    assert bad.returncode != 0 and "CMS_TLS" in bad.stderr


@engine_independent  # a new process, given no DATABASE_URL
def test_production_settings(tmp_path):
    names = sorted(PRODUCTION)
    result = run_production(
        "import json; from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))",
        CMS_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values == {name: list(v) if isinstance(v, tuple) else v
                      for name, v in PRODUCTION.items()}


# --- nginx ------------------------------------------------------------------------------------

A_HOST = "jia.test"


@dataclass
class TlsNginx:
    http_port: int
    https_port: int
    root: Path
    certificate: Path

    def request(self, path: str, *, tls: bool = True, method: str = "GET",
                headers: dict | None = None, body: bytes | None = None):
        if tls:
            context = ssl.create_default_context(cafile=str(self.certificate))
            connection = http.client.HTTPSConnection("127.0.0.1", self.https_port, timeout=30,
                                                     context=context)
        else:
            connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
        try:
            connection.request(method, path, body=body,
                               headers={"Host": A_HOST, **(headers or {})})
            response = connection.getresponse()
            response.body = response.read()
            return response
        finally:
            connection.close()

    def error_log(self) -> str:
        path = self.root / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    certificate, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN={A_HOST}", "-addext",
                    f"subjectAltName=DNS:{A_HOST},IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(certificate)],
                   check=True, capture_output=True)
    return certificate, key


@pytest.fixture
def tls_nginx(settings, tmp_path):
    """nginx with a self-signed certificate, in front of a closed port (whatever it passes
    on comes back as 502), with production's HSTS settings."""
    if not os.path.exists(NGINX) and not os.environ.get("REQUIRE_NGINX"):
        pytest.skip("nginx is not installed (./dev.sh test installs it where it can)")
    for name, value in PRODUCTION.items():
        setattr(settings, name, value)
    settings.BAKE_DIR = tmp_path / "public"
    settings.STATIC_ROOT = tmp_path / "static"
    settings.MEDIA_ROOT = tmp_path / "media"
    for folder in (settings.BAKE_DIR, settings.STATIC_ROOT, settings.MEDIA_ROOT):
        Path(folder).mkdir(parents=True)
    root = tmp_path / "nginx"
    root.mkdir()
    certificate, key = self_signed_certificate(tmp_path)
    main = write_main_config(root)
    process = None
    for _ in range(5):  # another process may take a free port before nginx binds it
        http_port, https_port = free_port(), free_port()
        call_command("nginx_config", upstream=f"127.0.0.1:{free_port()}",
                     listen=f"127.0.0.1:{http_port}", tls_listen=f"127.0.0.1:{https_port}",
                     tls_certificate=str(certificate), tls_key=str(key),
                     out=str(root / "cms.conf"), stdout=io.StringIO(), stderr=io.StringIO())
        process = subprocess.Popen([NGINX, "-p", str(root), "-c", str(main),
                                    "-e", str(root / "error.log")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = TlsNginx(http_port=http_port, https_port=https_port, root=root,
                          certificate=certificate)
        deadline = time.monotonic() + 10
        while process.poll() is None and time.monotonic() < deadline:
            try:
                for port in (http_port, https_port):
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.02)
        if process.poll() is None:
            break
        if "Address already in use" not in server.error_log():
            pytest.fail(f"nginx did not start:\n{server.error_log()}")
    else:
        pytest.fail(f"nginx did not start:\n{server.error_log()}")
    yield server
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_nginx_serves_baked_files_over_tls_with_the_public_sites_headers(tls_nginx, settings):
    page = Path(settings.BAKE_DIR) / A_HOST / "news" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_bytes(b"<!DOCTYPE html><title>baked</title>")
    response = tls_nginx.request("/news/")
    assert response.status == 200, tls_nginx.error_log()
    assert response.body == page.read_bytes() and response.getheader("X-Baked") == "1"
    assert response.getheader("Strict-Transport-Security") == HSTS
    assert directives(response.getheader("Content-Security-Policy")) == directives(
        public_content_security_policy())
    assert "publickey-credentials-get=(self)" in response.getheader("Permissions-Policy")
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert response.getheader("Referrer-Policy") == "same-origin"
    assert response.getheader("X-Frame-Options") == "DENY"
    # What is not a file is the application's, which sends its own headers (here: no
    # application, 502): nginx adds none there, so they are never doubled. Images are the
    # application's too (only renditions of live content, from the signed bytes).
    for path in ("/admin/", "/media/images/a.png"):
        response = tls_nginx.request(path)
        assert response.status == 502 and response.getheader("Content-Security-Policy") is None


def test_nginx_redirects_plain_http_to_https(tls_nginx, settings):
    (Path(settings.BAKE_DIR) / A_HOST).mkdir()
    (Path(settings.BAKE_DIR) / A_HOST / "index.html").write_bytes(b"home")
    for path in ("/", "/news/?page=2", "/admin/login/"):
        response = tls_nginx.request(path, tls=False)
        assert response.status == 301, path
        assert response.getheader("Location") == (
            f"https://{A_HOST}:{tls_nginx.https_port}{path}"), path
        assert b"home" not in response.body
    post = tls_nginx.request("/admin/login/", tls=False, method="POST", body=b"password=x")
    assert post.status == 301  # passwords never go to the application over http
    assert tls_nginx.request("/").body == b"home"


def test_nginx_limits_login_attempts_and_api_requests(tls_nginx):
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    # Opening the login form is not limited.
    assert {tls_nginx.request("/admin/login/").status for _ in range(20)} == {502}
    started = time.monotonic()
    statuses = [tls_nginx.request("/admin/login/", method="POST", headers=form,
                                  body=b"username=a&password=b").status for _ in range(25)]
    elapsed = time.monotonic() - started
    # 30 a minute with a burst of 10: the first 11 reach the application, the rest (but for
    # one more every 2 seconds) are refused by nginx.
    assert statuses[:11] == [502] * 11, statuses
    assert statuses.count(429) >= 14 - int(elapsed / 2) and 429 in statuses, statuses
    assert set(statuses) == {502, 429}
    reset = tls_nginx.request("/admin/password_reset/", method="POST", headers=form, body=b"")
    assert reset.status == 429  # the same zone
    assert tls_nginx.request("/admin/").status == 502  # the rest of the admin is not limited

    api = [tls_nginx.request("/api/v3/pages/").status for _ in range(80)]
    assert api[:51] == [502] * 51 and 429 in api, api


def test_nginx_tls_options_are_checked(tmp_path, settings):
    certificate, key = self_signed_certificate(tmp_path)
    out = tmp_path / "cms.conf"
    out.write_text("old")
    refused = {
        "a certificate without its key": {"tls_certificate": str(certificate)},
        "a key without its certificate": {"tls_key": str(key)},
        "a missing certificate": {"tls_certificate": str(tmp_path / "none.pem"),
                                  "tls_key": str(key)},
        "a relative path": {"tls_certificate": "cert.pem", "tls_key": str(key)},
        "a quote in a path": {"tls_certificate": str(certificate) + '";', "tls_key": str(key)},
        "a bad rate": {"login_rate": "30/m"},
        "a bad port": {"tls_listen": "https"},
    }
    for reason, options in refused.items():
        with pytest.raises(CommandError):
            call_command("nginx_config", out=str(out), stdout=io.StringIO(), **options)
        assert out.read_text() == "old", reason
    # Without production's HSTS setting, the operator is told.
    settings.SECURE_HSTS_SECONDS = 0
    warning = io.StringIO()
    call_command("nginx_config", tls_certificate=str(certificate), tls_key=str(key),
                 stdout=io.StringIO(), stderr=warning)
    assert "SECURE_HSTS_SECONDS" in warning.getvalue()
    # Without TLS: one plain server, no HSTS, the same limits.
    plain = io.StringIO()
    call_command("nginx_config", stdout=plain)
    text = plain.getvalue()
    assert "ssl_certificate" not in text and "Strict-Transport-Security" not in text
    assert "return 301 https://" not in text
    assert "limit_req zone=cms_login" in text and "limit_req zone=cms_api" in text
