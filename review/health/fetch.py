"""Fetching external addresses politely: bounded concurrency over hosts, one request at a time
per host with a pause between requests, a timeout on each, robots.txt obeyed. Standard
library only (urllib), no Django: the caller passes every parameter.

Each host's addresses are fetched in order by one worker; ``concurrency`` workers take hosts
in turn. A host's robots.txt is read once per run (with the same timeout); an address it
disallows for ``user_agent`` is not fetched (its outcome says so).
"""

import dataclasses
import time
import urllib.error
import urllib.request
import urllib.robotparser
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

from review.health.links import Outcome, host_of

ROBOTS_DISALLOWED = "robots.txt 禁止"


@dataclass(frozen=True, kw_only=True)
class Fetched:
    url: str
    outcome: Outcome
    body: bytes = b""
    content_type: str = ""
    # What the caller's ``then`` made of it in the fetching thread (a fingerprint).
    digest: object = None


@dataclass(frozen=True, kw_only=True)
class Politeness:
    concurrency: int = 16
    host_interval: float = 0.5
    timeout: float = 10.0
    user_agent: str = "SiteHealth/1.0"
    max_body: int = 512 * 1024
    obey_robots: bool = True


class _NoProxyOpener:
    """urllib's opener without the environment's proxies: checks go straight to the site."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def open(self, request, *, timeout: float):
        return self.opener.open(request, timeout=timeout)


_opener = _NoProxyOpener()


def fetch_one(url: str, *, politeness: Politeness, want_body: bool = False) -> Fetched:
    """GET ``url`` following redirects; the status, the final address, and (``want_body``)
    up to ``max_body`` bytes of the answer."""
    request = urllib.request.Request(url, headers={"User-Agent": politeness.user_agent,
                                                   "Accept": "text/html,*/*;q=0.5"})
    started = time.monotonic()
    try:
        with _opener.open(request, timeout=politeness.timeout) as response:
            body = response.read(politeness.max_body) if want_body else response.read(1)
            return Fetched(url=url, outcome=Outcome(
                status=response.status, final_url=response.geturl(),
                elapsed_ms=int((time.monotonic() - started) * 1000)),
                body=body if want_body else b"",
                content_type=response.headers.get("Content-Type", ""))
    except urllib.error.HTTPError as error:
        return Fetched(url=url, outcome=Outcome(
            status=error.code, final_url=error.geturl() or url, error=str(error.reason)[:200],
            elapsed_ms=int((time.monotonic() - started) * 1000)))
    except TimeoutError:
        return Fetched(url=url, outcome=Outcome(
            status=None, final_url=url, error="超时",
            elapsed_ms=int((time.monotonic() - started) * 1000)))
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        text = "超时" if isinstance(reason, TimeoutError) else str(reason)
        return Fetched(url=url, outcome=Outcome(
            status=None, final_url=url, error=text[:200],
            elapsed_ms=int((time.monotonic() - started) * 1000)))


def _robots(url: str, *, politeness: Politeness) -> urllib.robotparser.RobotFileParser | None:
    """The host's robots.txt, or None when every address may be fetched (none, unreadable)."""
    parts = urlsplit(url)
    robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
    fetched = fetch_one(robots_url, politeness=politeness, want_body=True)
    status = fetched.outcome.status
    parser = urllib.robotparser.RobotFileParser(robots_url)
    if status in (401, 403):
        parser.disallow_all = True
        return parser
    if status is None or status >= 400:
        return None
    parser.parse(fetched.body.decode("utf-8", "replace").splitlines())
    return parser


def fetch_all(urls: Iterable[str], *, politeness: Politeness, want_body: Callable[[str], bool]
              = lambda url: False, sleep: Callable[[float], None] = time.sleep,
              then: Callable[[Fetched], object] | None = None) -> list[Fetched]:
    """Fetch every address politely; results in no particular order, one per address.
    ``then`` (CPU work on an answer, such as screening it) runs in the fetching thread while
    the host's pause runs anyway; its result is the ``digest``."""
    by_host: dict[str, list[str]] = {}
    for url in dict.fromkeys(urls):
        by_host.setdefault(urlsplit(url).netloc.lower(), []).append(url)

    def host_worker(host_urls: list[str]) -> list[Fetched]:
        results = []
        robots = _robots(host_urls[0], politeness=politeness) if politeness.obey_robots else None
        last = None
        for url in host_urls:
            if robots is not None and not robots.can_fetch(politeness.user_agent, url):
                results.append(Fetched(url=url, outcome=Outcome(status=None,
                                                                error=ROBOTS_DISALLOWED)))
                continue
            if last is not None:
                pause = politeness.host_interval - (time.monotonic() - last)
                if pause > 0:
                    sleep(pause)
            last = time.monotonic()
            fetched = fetch_one(url, politeness=politeness, want_body=want_body(url))
            if then is not None:
                fetched = dataclasses.replace(fetched, digest=then(fetched))
            results.append(fetched)
        return results

    results: list[Fetched] = []
    if not by_host:
        return results
    with ThreadPoolExecutor(max_workers=max(1, min(politeness.concurrency, len(by_host))),
                            thread_name_prefix="health-fetch") as pool:
        for host_results in pool.map(host_worker, by_host.values()):
            results.extend(host_results)
    return results


def same_host(url: str, other: str) -> bool:
    return host_of(url) == host_of(other)
