"""Links in published HTML and how a check of one is judged: plain functions, no Django.

Confirmed broken are only 404, 403 and 410 (the inspection indicators count only those);
a timeout, a refused connection or a 5xx is *suspect* until it has failed ``failures`` times
in a row over at least ``hours`` hours, so a server down for an afternoon does not cost a
school points.
"""

import datetime
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

OK = "ok"
BROKEN = "broken"
SUSPECT = "suspect"
SKIPPED = "skipped"
MUTATED = "mutated"
CONFIRMED_BROKEN_STATUSES = frozenset({404, 403, 410})
STATE_LABELS = {OK: "正常", BROKEN: "错误链接", SUSPECT: "疑似错误", SKIPPED: "robots.txt 禁止检查",
                MUTATED: "外链变异"}

ANCHOR = "a"
IMAGE = "img"
ATTACHMENT = "attachment"
KIND_LABELS = {ANCHOR: "链接", IMAGE: "图片", ATTACHMENT: "附件"}
# Files readers download rather than read: a link to one is an attachment.
ATTACHMENT_SUFFIXES = (".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".zip",
                       ".rar", ".7z", ".txt", ".csv", ".wps", ".et", ".dps")
_TAG = re.compile(r"<(a|img|link|script|source|iframe)\b([^>]*)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""\b(href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""",
                        re.IGNORECASE)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_SKIPPED_SCHEMES = ("mailto:", "tel:", "javascript:", "data:", "#", "sms:")


@dataclass(frozen=True, kw_only=True)
class Link:
    url: str
    kind: str


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What one check found: ``status`` the HTTP status (None when there was no answer),
    ``error`` why there was none, ``final_url`` where redirects ended."""

    status: int | None
    error: str = ""
    final_url: str = ""
    elapsed_ms: int = 0


def _unescape(value: str) -> str:
    return value.replace("&amp;", "&").replace("&#38;", "&").strip()


def extract_links(html: str, *, base_url: str) -> list[Link]:
    """Every followable link, image and attachment in ``html``, made absolute against
    ``base_url`` (fragments dropped; each once, in order)."""
    seen: dict[str, Link] = {}
    base = urlsplit(base_url)
    origin = f"{base.scheme}://{base.netloc.lower()}"
    for tag, attributes in _TAG.findall(html):
        tag = tag.lower()
        for name, double, single, bare in _ATTRIBUTE.findall(attributes):
            raw = _unescape(double or single or bare)
            if not raw or raw.lower().startswith(_SKIPPED_SCHEMES):
                continue
            if tag == "a" and name.lower() != "href":
                continue
            if raw.startswith("/") and not raw.startswith("//") and "\\" not in raw:
                # Root-relative, most links of a baked site: no need for urljoin.
                url = origin + raw.split("#", 1)[0]
            else:
                url = absolute(raw, base_url=base_url)
            if url is None or url in seen:
                continue
            path = url.split("?", 1)[0]
            if tag == "img" or tag == "source":
                kind = IMAGE
            elif path.lower().endswith(ATTACHMENT_SUFFIXES) or (
                    "/documents/" in path or "/attachments/" in path):
                kind = ATTACHMENT
            else:
                kind = ANCHOR
            seen[url] = Link(url=url, kind=kind)
    return list(seen.values())


def absolute(raw: str, *, base_url: str) -> str | None:
    """``raw`` as an absolute http(s) address without its fragment; None for anything else."""
    try:
        parts = urlsplit(urljoin(base_url, raw))
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", parts.query, ""))


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def page_title(html: str) -> str:
    match = _TITLE.search(html[:200_000])
    return re.sub(r"\s+", " ", match.group(1)).strip()[:200] if match else ""


def judge(outcome: Outcome) -> str:
    """One check on its own: ok, broken (404/403/410) or suspect (no answer, 5xx, others)."""
    if outcome.status is not None and 200 <= outcome.status < 400:
        return OK
    if outcome.status in CONFIRMED_BROKEN_STATUSES:
        return BROKEN
    if outcome.status is not None and 400 <= outcome.status < 500 and outcome.status != 429:
        # Other client errors (400, 405 on HEAD…) say the server answered: not dead.
        return OK
    return SUSPECT


def confirmed(*, failures: list[datetime.datetime], failures_needed: int,
              hours: float) -> bool:
    """Whether a suspect target's run of failures (their times, oldest first) confirms it
    broken: at least ``failures_needed`` failures spanning at least ``hours`` hours."""
    if len(failures) < failures_needed:
        return False
    return failures[-1] - failures[0] >= datetime.timedelta(hours=hours)
