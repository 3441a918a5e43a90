"""Fetching content from another website, to keep it as an original with its address.

Bounded: a connect/read timeout, an overall deadline and a size limit, checked against the
declared length and again while reading. Only http(s), and by default only public
addresses — an editor's URL must not make the server read its own network (SSRF), redirects
included. Plain code, no Django.
"""

import email.message
import ipaddress
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

from backups.exceptions import FetchError

CHUNK = 1 << 16



@dataclass(frozen=True)
class Limits:
    timeout: float = 15.0  # seconds per connect or read
    deadline: float = 120.0  # seconds for the whole transfer
    max_bytes: int = 100 * 1024 * 1024
    allow_private: bool = False  # tests and intranets: allow loopback and private ranges


@dataclass
class Fetched:
    file: BinaryIO  # a temporary file, positioned at 0; closed by the caller
    size: int
    content_type: str
    filename: str
    url: str  # after redirects


def fetch(url: str, *, limits: Limits = Limits()) -> Fetched:
    check_address(url, allow_private=limits.allow_private)
    opener = urllib.request.build_opener(_CheckedRedirects(limits.allow_private))
    request = urllib.request.Request(url, headers={"User-Agent": "edu-cms-capture/1.0"})
    try:
        response = opener.open(request, timeout=limits.timeout)
    except urllib.error.HTTPError as error:
        raise FetchError(f"对方网站返回 {error.code}：{url}") from error
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise FetchError(f"无法访问 {url}：{getattr(error, 'reason', error)}") from error
    with response:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limits.max_bytes:
            raise FetchError(f"内容过大（{int(declared):,} 字节，上限 {limits.max_bytes:,}）。")
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, who closes it
        try:
            size = _copy_bounded(response, spool, limits=limits)
        except BaseException:
            spool.close()
            raise
    spool.seek(0)
    final_url = response.geturl()
    content_type = response.headers.get_content_type()
    return Fetched(spool, size, content_type,
                   filename_for(final_url, response.headers, content_type), final_url)


def _copy_bounded(source, target, *, limits: Limits) -> int:
    started, size = time.monotonic(), 0
    while True:
        try:
            chunk = source.read(CHUNK)
        except (OSError, TimeoutError) as error:
            raise FetchError(f"读取超时或中断：{error}") from error
        if not chunk:
            return size
        size += len(chunk)
        if size > limits.max_bytes:
            raise FetchError(f"内容过大（超过上限 {limits.max_bytes:,} 字节）。")
        if time.monotonic() - started > limits.deadline:
            raise FetchError(f"下载超过 {limits.deadline:.0f} 秒，已放弃。")
        target.write(chunk)


def check_address(url: str, *, allow_private: bool) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"只能采集 http 或 https 网址：{url}")
    if allow_private:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, None)}
    except OSError as error:
        raise FetchError(f"无法解析域名 {parts.hostname}：{error}") from error
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global:
            raise FetchError(f"{parts.hostname} 指向内部地址 {ip}，不允许采集。")


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, allow_private: bool):
        self.allow_private = allow_private

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        check_address(newurl, allow_private=self.allow_private)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def filename_for(url: str, headers: email.message.Message, content_type: str) -> str:
    """The server's file name, else the URL's last path segment, else one for the type."""
    name = headers.get_filename() or PurePosixPath(
        urllib.parse.unquote(urllib.parse.urlsplit(url).path)).name
    name = name.replace("/", "_").replace("\\", "_").strip(". ")
    if not name:
        name = "page.html" if content_type == "text/html" else "download"
    if "." not in name and content_type == "text/html":
        name += ".html"
    return name[:200]
