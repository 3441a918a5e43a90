"""The production nginx configuration (deploy/nginx, `manage.py nginx_config`) in a real nginx.

Each test starts Debian's nginx (not as a daemon, everything under the test's own directory)
with a small main configuration that includes the rendered file, on a free port of 127.0.0.1.
It proxies to the application: Django's WSGI handler served on a thread over HTTP, on the
test's own database connection, so it sees the test's data without committing it (as the
test client does; pytest-django's live_server would need a transactional test, which commits,
then flushes every table: on PostgreSQL that doubled each test's time). The application's own
baked-file middleware is switched off here (BAKE_SERVE = False), so a marker written into a
baked file after the bake can only reach the client through nginx. Tests of what nginx must
refuse by itself proxy to a closed port instead: anything that reached the application would
be a 502.
"""

import http.client
import io
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connections

from tests.baking.conftest import baked, baked_build, copy_of, url_of
from tests.conftest import make_article, png_bytes, publish

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MIME_TYPES = Path("/etc/nginx/mime.types")
A_HOST = "jia.test"
MARKER = b"<!-- written into the baked file after the bake -->"
CACHE_CONTROL = "public, max-age=0, s-maxage=60, must-revalidate"

# The test's main configuration: the production file is included inside `http {}` like
# /etc/nginx/conf.d/*.conf. Run as root, the workers would switch to `nobody`, who cannot
# enter pytest's 0700 temporary directories: there they stay root.
MAIN_CONFIG = """\
{user}worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{
    worker_connections 128;
}}
http {{
    {mime_types}
    default_type application/octet-stream;
    access_log {root}/access.log;
    client_body_temp_path {root}/temp/body;
    proxy_temp_path {root}/temp/proxy;
    fastcgi_temp_path {root}/temp/fastcgi;
    uwsgi_temp_path {root}/temp/uwsgi;
    scgi_temp_path {root}/temp/scgi;
    include {root}/cms.conf;
}}
"""


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def __getitem__(self, name: str) -> str | None:
        return self.headers.get(name)


@dataclass
class Nginx:
    port: int
    root: Path

    def request(self, path: str, *, method: str = "GET", host: str = A_HOST,
                headers: dict | None = None, body: bytes | None = None) -> Response:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers={"Host": host, **(headers or {})})
            response = connection.getresponse()
            return Response(status=response.status, headers=response.headers,
                            body=response.read())
        finally:
            connection.close()

    def error_log(self) -> str:
        path = self.root / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_main_config(root: Path) -> Path:
    for folder in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (root / "temp" / folder).mkdir(parents=True, exist_ok=True)
    main = root / "nginx.conf"
    main.write_text(MAIN_CONFIG.format(
        root=root, user="user root;\n" if os.geteuid() == 0 else "",
        mime_types=f"include {MIME_TYPES};" if MIME_TYPES.exists() else ""))
    return main


@pytest.fixture
def nginx_binary() -> str:
    if not os.path.exists(NGINX) and not os.environ.get("REQUIRE_NGINX"):
        pytest.skip("nginx is not installed (./dev.sh test installs it where it can)")
    return NGINX


@pytest.fixture
def nginx(nginx_binary, tmp_path):
    """Start nginx with the rendered configuration: ``start(upstream="HOST:PORT")``."""
    root = tmp_path / "nginx"
    root.mkdir()
    processes: list[subprocess.Popen] = []

    def start(*, upstream: str) -> Nginx:
        main = write_main_config(root)
        for _ in range(5):  # another process may take the free port before nginx binds it
            port = free_port()
            call_command("nginx_config", upstream=upstream, listen=f"127.0.0.1:{port}",
                         out=str(root / "cms.conf"), stdout=io.StringIO())
            process = subprocess.Popen([nginx_binary, "-p", str(root), "-c", str(main),
                                        "-e", str(root / "error.log")],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            processes.append(process)
            server = Nginx(port=port, root=root)
            deadline = time.monotonic() + 10
            while process.poll() is None and time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    return server
                except OSError:
                    time.sleep(0.02)
            process.kill()
            process.wait()
            if "Address already in use" not in server.error_log():
                break
        pytest.fail(f"nginx did not start:\n{server.error_log()}")

    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class InTransactionApp:
    """Django's WSGI application on the test thread's database connections, one request at
    a time (the test waits for each answer). Like the test client, it keeps Django from
    closing those connections around a request: that would end the test's transaction."""

    def __init__(self, shared: dict):
        self.shared = shared
        self.handler = WSGIHandler()

    def __call__(self, environ, start_response):
        for alias, connection in self.shared.items():
            connections[alias] = connection
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = self.handler(environ, start_response)
            try:
                body = b"".join(response)
            finally:
                response.close()  # request_finished, as a WSGI server sends it
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        return [body]


class QuietRequestHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def app_upstream(db) -> str:
    """The application over HTTP (a single-threaded WSGI server), as HOST:PORT."""
    shared = {alias: connections[alias] for alias in connections}
    for connection in shared.values():
        connection.inc_thread_sharing()
    server = make_server("127.0.0.1", 0, InTransactionApp(shared),
                         handler_class=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()
    for connection in shared.values():
        connection.dec_thread_sharing()


@dataclass
class Served:
    nginx: Nginx
    bake_dir: Path
    article: object
    news: object
    unicode_article: object

    def file(self, page, page_number: int = 1) -> Path:
        # Files are named by the decoded path (the engine unquotes Wagtail's URL).
        return baked(self.bake_dir, A_HOST, unquote(url_of(page)), page_number)

    def mark(self, page, page_number: int = 1) -> Path:
        path = self.file(page, page_number)
        path.write_bytes(path.read_bytes() + MARKER)
        return path


@pytest.fixture
def app_renders_dynamically(settings):
    """The application never answers from a file: only nginx can."""
    settings.BAKE_SERVE = False


def _three_articles(network):
    news = network.column(network.school_a, "news")
    article = make_article(news, "由nginx读取的文章")
    make_article(news, "第二篇")
    return news, article, make_article(news, "中文路径的文章", slug="中文路径")


_three_articles_build = baked_build(_three_articles, articles_per_page=2)


@pytest.fixture
def served(nginx, app_renders_dynamically, _three_articles_build, network, bake_dir, small_pages,
           app_upstream):
    """School A with a column of three articles (two listing pages), baked, behind nginx."""
    news, article, unicode_article = copy_of(_three_articles_build, bake_dir)
    return Served(nginx=nginx(upstream=app_upstream), bake_dir=bake_dir, article=article,
                  news=news, unicode_article=unicode_article)


@pytest.fixture
def alone(nginx, settings, tmp_path):
    """nginx before a closed port: whatever it passes on comes back as 502. The bake
    directory (bake_dir), STATIC_ROOT and MEDIA_ROOT are the test's own."""
    settings.STATIC_ROOT = tmp_path / "static"
    settings.MEDIA_ROOT = tmp_path / "media"
    for folder in (settings.BAKE_DIR, settings.STATIC_ROOT, settings.MEDIA_ROOT):
        Path(folder).mkdir(parents=True, exist_ok=True)
    return nginx(upstream=f"127.0.0.1:{free_port()}")


def plant(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# --- baked files ------------------------------------------------------------------------------

def test_a_baked_article_is_served_from_its_file_with_validators(served):
    path = served.mark(served.article)
    url = url_of(served.article)
    response = served.nginx.request(url)
    assert response.status == 200, served.nginx.error_log()
    assert response.body == path.read_bytes() and MARKER in response.body
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Cache-Control"] == CACHE_CONTROL
    assert response["Content-Language"] == "zh-hans"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    etag = response["ETag"]
    assert etag and etag.startswith('"')
    assert parsedate_to_datetime(response["Last-Modified"]).timestamp() == int(
        path.stat().st_mtime)

    again = served.nginx.request(url, headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b""
    assert again["ETag"] == etag and again["Cache-Control"] == CACHE_CONTROL
    since = served.nginx.request(url, headers={"If-Modified-Since": response["Last-Modified"]})
    assert since.status == 304
    assert served.nginx.request(url, headers={"If-None-Match": '"other"'}).status == 200

    head = served.nginx.request(url, method="HEAD")
    assert head.status == 200 and head.body == b""
    assert int(head["Content-Length"]) == path.stat().st_size and head["ETag"] == etag


def test_listing_pages_feeds_the_sitemap_and_non_ascii_paths_come_from_their_files(served):
    second = served.mark(served.news, 2)
    assert second.name == "index-page2.html"
    response = served.nginx.request(f"{url_of(served.news)}?page=2")
    assert response.status == 200 and response.body == second.read_bytes()
    first = served.mark(served.news)
    assert served.nginx.request(f"{url_of(served.news)}?page=1").body == first.read_bytes()
    assert served.nginx.request(url_of(served.news)).body == first.read_bytes()

    sitemap = served.bake_dir / A_HOST / "sitemap.xml"
    sitemap.write_bytes(sitemap.read_bytes() + MARKER)
    response = served.nginx.request("/sitemap.xml")
    assert response.body == sitemap.read_bytes()
    assert response["Content-Type"] == "application/xml"
    assert response["Cache-Control"] == CACHE_CONTROL
    # The sitemap's parts (cms.sitemaps) too; a name a bake never writes is the application's.
    part = served.bake_dir / A_HOST / "sitemap-1.xml"
    part.write_bytes(part.read_bytes() + MARKER)
    response = served.nginx.request("/sitemap-1.xml")
    assert response.body == part.read_bytes() and response["Content-Type"] == "application/xml"
    assert MARKER not in served.nginx.request("/sitemap-01.xml").body

    # Feeds share the sitemap's extension, not its media type.
    feed = served.file(served.news).parent / "feed.xml"
    feed.write_bytes(feed.read_bytes() + MARKER)
    response = served.nginx.request(f"{url_of(served.news)}feed.xml")
    assert response.body == feed.read_bytes()
    assert response["Content-Type"] == "application/rss+xml; charset=utf-8"
    assert response["Cache-Control"] == CACHE_CONTROL and response["Content-Language"] == "zh-hans"
    # Feeds have no second page: that is the application's to answer.
    assert MARKER not in served.nginx.request(f"{url_of(served.news)}feed.xml?page=2").body

    # /news/中文路径/ is baked to a directory of that (decoded) name.
    path = served.mark(served.unicode_article)
    assert "中文路径" in str(path) and "%" in url_of(served.unicode_article)
    assert served.nginx.request(url_of(served.unicode_article)).body == path.read_bytes()


def test_sessions_credentials_odd_page_numbers_and_methods_go_to_the_application(served):
    served.mark(served.article)
    url = url_of(served.article)
    dynamic = {
        "a session cookie": served.nginx.request(
            url, headers={"Cookie": "csrftoken=abc; sessionid=anything"}),
        "an Authorization header": served.nginx.request(
            url, headers={"Authorization": "Bearer not-a-token"}),
        "a page number pagination never writes": served.nginx.request(f"{url}?page=01"),
    }
    for reason, response in dynamic.items():
        assert response.status == 200, reason
        assert MARKER not in response.body and "X-Baked" not in response.headers, reason
        assert "由nginx读取的文章" in response.body.decode(), reason
    # Other arguments than the page number are ignored: the file, not a fresh render.
    for query in ("foo=1", "page=1&foo=1", "foo=1&page=", "x=%3Cscript%3E"):
        assert MARKER in served.nginx.request(f"{url}?{query}").body, query
    # Other cookies are no session: still the file.
    other = served.nginx.request(url, headers={"Cookie": "csrftoken=abc; xsessionid=1"})
    assert MARKER in other.body
    # A POST is Django's: its CSRF refusal, not the file.
    post = served.nginx.request(url, method="POST", body=b"a=1",
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert post.status == 403 and MARKER not in post.body and b"CSRF" in post.body


def test_what_is_not_baked_falls_back_to_the_application(served):
    served.file(served.article).unlink()
    response = served.nginx.request(url_of(served.article))
    assert response.status == 200, served.nginx.error_log()
    assert "X-Baked" not in response.headers
    assert "由nginx读取的文章" in response.body.decode()


def test_the_admin_search_and_other_dynamic_paths_are_proxied(served):
    # Files planted where dynamic pages live are never served.
    for planted in ("search", "admin/login", "api/v3/pages"):
        plant(served.bake_dir / A_HOST / planted / "index.html", b"planted")
    login = served.nginx.request("/admin/login/")
    assert login.status == 200 and b"csrfmiddlewaretoken" in login.body
    search = served.nginx.request("/search/?q=x")
    assert search.status == 200 and b"planted" not in search.body
    assert served.nginx.request("/search/").body != b"planted"
    assert served.nginx.request("/api/v3/pages/").body != b"planted"
    # Bodies up to 100 MB pass (nginx's default limit is 1 MB): Django reads all 3 MB of this
    # form (a CSRF token that matches its cookie), refuses the password and shows the form.
    token = "a" * 32
    form = f"csrfmiddlewaretoken={token}&username=nobody&password=wrong&pad=".encode()
    upload = served.nginx.request("/admin/login/", method="POST", body=form + b"x" * (3 << 20),
                                  headers={"Content-Type": "application/x-www-form-urlencoded",
                                           "Cookie": f"csrftoken={token}"})
    assert upload.status == 200, upload.body[:500]
    assert b'name="username"' in upload.body and b"nobody" in upload.body


# --- what nginx answers by itself -------------------------------------------------------------

def test_the_site_directory_is_the_host_name_and_a_non_standard_port(alone, bake_dir):
    plant(bake_dir / A_HOST / "index.html", b"port 80")
    plant(bake_dir / f"{A_HOST}_8080" / "index.html", b"port 8080")
    assert alone.request("/").body == b"port 80"
    assert alone.request("/", host="JIA.Test").body == b"port 80"
    assert alone.request("/", host=f"{A_HOST}:80").body == b"port 80"
    assert alone.request("/", host=f"{A_HOST}:443").body == b"port 80"
    assert alone.request("/", host=f"{A_HOST}:8080").body == b"port 8080"
    # No file for that port: the application's (here: nobody's, 502).
    assert alone.request("/", host=f"{A_HOST}:8081").status == 502
    # A host name cannot name a port directory itself.
    assert alone.request("/", host=f"{A_HOST}_8080").status == 502


def test_dot_files_and_documents_are_never_served(alone, bake_dir, settings):
    site = bake_dir / A_HOST
    plant(site / "index.html", b"home")
    plant(site / ".bake-x.tmp", b"half a page")
    plant(site / "news" / ".bake-y.tmp", b"half a page")
    plant(site / ".hidden" / "index.html", b"hidden")
    plant(bake_dir / ".bake-state.json", b"{}")
    for path in ("/.bake-x.tmp", "/news/.bake-y.tmp", "/.hidden/", "/.bake-state.json",
                 f"/{A_HOST}/.bake-x.tmp"):
        response = alone.request(path)
        assert response.status in (403, 404), path
        assert b"half a page" not in response.body and b"hidden" not in response.body, path
    assert alone.request("/").body == b"home"  # the tree itself is served

    media = Path(settings.MEDIA_ROOT)
    plant(media / "documents" / "plan.pdf", b"%PDF-1.4 private")
    plant(media / "images" / "logo.png", b"png")
    plant(media / ".secret", b"secret")
    plant(media / "original_images" / "logo.png", b"original png")
    # Nothing under media is read from disk: images are the application's to answer (here:
    # no application, 502), documents are refused outright.
    for path in ("/media/images/logo.png", "/media/original_images/logo.png",
                 "/media/%6Friginal_images/logo.png", "/media/.secret"):
        response = alone.request(path)
        assert response.status == 502 and b"png" not in response.body, path
        assert b"secret" not in response.body, path
    for path in ("/media/documents/plan.pdf", "/media/%64ocuments/plan.pdf",
                 "/media//documents/plan.pdf", "/media/images/../documents/plan.pdf"):
        response = alone.request(path)
        assert response.status == 404 and b"private" not in response.body, path


def test_images_reach_the_public_only_as_renditions_of_live_content(served, network):
    """Issue 17 finding 7: through nginx, an image of a live article is served (a rendition,
    by the application), its original and a draft's image are not."""
    column = served.news
    live_image = make_image(network, "live.png")
    draft_image = make_image(network, "draft.png")
    article = make_article(column, "有封面的文章", live=False)
    article.cover_image = live_image
    article.save_revision()
    publish(article)
    draft = make_article(column, "有封面的草稿", live=False)
    draft.cover_image = draft_image
    draft.save_revision()
    page = served.nginx.request(url_of(article))
    assert page.status == 200, served.nginx.error_log()
    (rendition,) = re.findall(r'src="(/media/images/[^"]+)"', page.body.decode())
    image = served.nginx.request(rendition)
    assert image.status == 200 and image["Content-Type"] == "image/png"
    assert image["X-Content-Type-Options"] == "nosniff"
    for path in (live_image.file.url, draft_image.file.url,
                 draft_image.get_rendition("width-800").url):
        response = served.nginx.request(path)
        assert response.status == 404, path
        assert not response.body.startswith(b"\x89PNG"), path


def make_image(network, name: str):
    from django.core.files.images import ImageFile
    from wagtail.images import get_image_model

    image = get_image_model()(title=name, collection=network.school_a.collection)
    image.file.save(name, ImageFile(io.BytesIO(png_bytes()), name=name), save=False)
    image.save()
    return image


def test_static_files_are_served_with_a_long_cache(alone, settings):
    static = Path(settings.STATIC_ROOT)
    plant(static / "css" / "site.0123456789ab.css", b"body{}")
    plant(static / "css" / "site.css", b"body{}")
    hashed = alone.request("/static/css/site.0123456789ab.css")
    assert hashed.status == 200 and hashed.body == b"body{}"
    assert hashed["Cache-Control"] == "public, max-age=31536000, immutable"
    plain = alone.request("/static/css/site.css")
    assert plain.status == 200 and plain["Cache-Control"] == "public, max-age=86400"
    assert alone.request("/static/missing.css").status == 404


# --- the command ------------------------------------------------------------------------------

def render(**options) -> str:
    out = io.StringIO()
    call_command("nginx_config", stdout=out, **options)
    return out.getvalue()


def test_the_configuration_carries_the_settings(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ALLOWED_HOSTS = ["www.edu.example.cn", ".schools.example.cn"]
    text = render(upstream="10.0.0.5:9000", listen="8080")
    assert "server 10.0.0.5:9000;" in text and "listen 8080;" in text
    assert "server_name www.edu.example.cn .schools.example.cn;" in text
    assert "default_server" not in text
    assert f'root "{settings.BAKE_DIR}";' in text
    assert f'alias "{settings.STATIC_ROOT}/";' in text
    assert str(settings.MEDIA_ROOT) not in text  # uploads are never read from disk
    assert "location ^~ /media/ {" in text
    assert "{{" not in text and "{%" not in text
    for prefix in ("/admin/", "/api/", "/search/", "/documents/", "/attachments/",
                   "/django-admin/"):
        assert f"location ^~ {prefix} {{" in text
    assert "server unix:/run/cms/gunicorn.sock;" in render(upstream="unix:/run/cms/gunicorn.sock")
    settings.ALLOWED_HOSTS = ["*"]
    assert "listen 80 default_server;" in render() and "server 127.0.0.1:8000;" in render()


def test_the_rendered_configuration_passes_nginx_t(nginx_binary, settings, tmp_path):
    settings.ALLOWED_HOSTS = ["www.edu.example.cn", ".schools.example.cn"]
    root = tmp_path / "nginx"
    main = write_main_config(root)
    call_command("nginx_config", upstream="127.0.0.1:9", listen=f"127.0.0.1:{free_port()}",
                 out=str(root / "cms.conf"), stdout=io.StringIO())
    result = subprocess.run([nginx_binary, "-t", "-q", "-p", str(root), "-c", str(main),
                             "-e", str(root / "error.log")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr + (root / "error.log").read_text()


def test_out_replaces_the_file_and_leaves_no_temporary(tmp_path):
    out = tmp_path / "cms.conf"
    out.write_text("old")
    message = io.StringIO()
    call_command("nginx_config", out=str(out), stdout=message)
    assert out.read_text() == render() and "已写入" in message.getvalue()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cms.conf"]


@pytest.mark.parametrize("options", [
    {"upstream": "127.0.0.1"},
    {"upstream": "gunicorn"},
    {"upstream": "127.0.0.1:0"},
    {"upstream": "127.0.0.1:70000"},
    {"upstream": "127.0.0.1:8000; include /etc/passwd"},
    {"upstream": "unix:relative.sock"},
    {"listen": "eighty"},
    {"listen": "0"},
    {"listen": "127.0.0.1:80 default_server"},
])
def test_bad_values_are_refused_and_nothing_is_written(tmp_path, options):
    out = tmp_path / "cms.conf"
    out.write_text("old")
    with pytest.raises(CommandError):
        call_command("nginx_config", out=str(out), stdout=io.StringIO(), **options)
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cms.conf"]


def test_settings_that_cannot_be_written_safely_are_refused(settings, tmp_path):
    settings.BAKE_DIR = tmp_path / 'with"quote'
    with pytest.raises(CommandError, match="BAKE_DIR"):
        render()
    settings.BAKE_DIR = "relative/public"
    with pytest.raises(CommandError, match="BAKE_DIR"):
        render()
    settings.BAKE_DIR = tmp_path / "public"
    settings.SESSION_COOKIE_NAME = "session id"
    with pytest.raises(CommandError, match="SESSION_COOKIE_NAME"):
        render()
