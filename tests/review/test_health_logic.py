"""Site health's plain logic (review.health.ledger, links, fingerprint): no database."""

import datetime

from review.health import fingerprint as fp
from review.health import ledger, links
from review.health.ledger import Column, Thresholds
from review.screening.findings import Finding

NOW = datetime.datetime(2026, 6, 30, 12, 0, tzinfo=datetime.UTC)
T = Thresholds()


def days_ago(days: float) -> datetime.datetime:
    return NOW - datetime.timedelta(days=days)


def test_column_clock_ok_warning_overdue_by_interval():
    def state(days, interval=14):
        return ledger.clock(last_update=days_ago(days), baseline=None, interval_days=interval,
                            warning_after_days=interval * 0.7, now=NOW)

    assert state(3).state == ledger.OK and state(3).days_left == 11
    assert state(10).state == ledger.WARNING  # 70% of 14 days is 9.8
    assert state(14).state == ledger.OVERDUE and state(14).days_left == 0
    assert state(20).days_left == -6
    assert state(100, interval=180).state == ledger.OK
    assert state(130, interval=180).state == ledger.WARNING


def test_column_without_content_runs_from_its_opening_and_static_never_due():
    opened = ledger.clock(last_update=None, baseline=days_ago(2), interval_days=14,
                          warning_after_days=9.8, now=NOW)
    assert opened.state == ledger.OK and opened.last_update is None
    never = ledger.clock(last_update=None, baseline=None, interval_days=14,
                         warning_after_days=9.8, now=NOW)
    assert never.state == ledger.OVERDUE
    static = ledger.clock(last_update=None, baseline=None, interval_days=None,
                          warning_after_days=None, now=NOW)
    assert static.state == ledger.OK and static.days_left is None


def test_homepage_warns_at_ten_days_and_fails_at_fourteen():
    assert ledger.homepage_clock(last_update=days_ago(9), baseline=None, thresholds=T,
                                 now=NOW).state == ledger.OK
    assert ledger.homepage_clock(last_update=days_ago(10), baseline=None, thresholds=T,
                                 now=NOW).state == ledger.WARNING
    assert ledger.homepage_clock(last_update=days_ago(14), baseline=None, thresholds=T,
                                 now=NOW).state == ledger.OVERDUE


def test_blank_columns_count_empty_sub_columns_and_their_parents():
    columns = [
        Column(id=1, title="新闻", kind="news", interval_days=14),
        Column(id=2, title="校内", kind="news", interval_days=14, parent_id=1),
        Column(id=3, title="通知", kind="notice", interval_days=180),
        Column(id=4, title="子通知", kind="notice", interval_days=180, parent_id=3),
        Column(id=5, title="概况", kind="static", interval_days=None, own_content=True),
        Column(id=6, title="链接", kind="link", interval_days=None, expects_content=False),
    ]
    blank = ledger.blank_columns(columns=columns, has_content={2})
    assert [column.id for column in blank] == [3, 4]


def verdict(**overrides):
    arguments = {"homepage": ledger.homepage_clock(last_update=days_ago(1), baseline=None,
                                                   thresholds=T, now=NOW),
                 "ledger": [], "blank": [], "broken": 0, "broken_on_homepage": 0,
                 "suspect": 0, "mutated": 0, "harmful": 0, "failure_share": 0.0,
                 "thresholds": T}
    arguments.update(overrides)
    return ledger.verdict(**arguments)


def overdue_columns(count: int, interval: int) -> list[ledger.ColumnLedger]:
    return [ledger.ColumnLedger(
        column=Column(id=i, title=f"c{i}", kind="x", interval_days=interval),
        clock=ledger.Clock(last_update=None, interval_days=interval, days_left=-1,
                           state=ledger.OVERDUE)) for i in range(count)]


def test_veto_lines_and_the_warnings_before_them():
    assert verdict().veto == () and verdict().score == 100
    blank = [Column(id=i, title="", kind="news", interval_days=14) for i in range(5)]
    assert verdict(blank=blank[:2]).warnings == ()
    assert ledger.WARN_BLANK in verdict(blank=blank[:3]).warnings
    assert ledger.VETO_BLANK in verdict(blank=blank).veto
    assert ledger.VETO_COLUMNS in verdict(ledger=overdue_columns(5, 14)).veto
    assert ledger.VETO_COLUMNS not in verdict(ledger=overdue_columns(5, 365)).veto
    assert ledger.WARN_COLUMNS_OVERDUE in verdict(ledger=overdue_columns(7, 365)).warnings
    assert ledger.VETO_COLUMNS in verdict(ledger=overdue_columns(10, 365)).veto
    assert ledger.WARN_AVAILABILITY in verdict(failure_share=0.03).warnings
    assert ledger.VETO_UNREACHABLE in verdict(failure_share=0.05).veto
    assert verdict(failure_share=None).veto == ()
    harmful = verdict(harmful=1)
    assert harmful.veto == (ledger.VETO_HARMFUL_LINK,) and harmful.score <= 59
    broken = verdict(broken=3, broken_on_homepage=1)
    assert broken.score == 96 and ledger.WARN_BROKEN in broken.warnings
    late = verdict(messages_overdue=2)
    assert late.warnings == (ledger.WARN_MESSAGES,) and late.veto == () and late.score == 96
    forgotten = verdict(messages_overdue=1, messages_over_3_months=1)
    assert forgotten.veto == (ledger.VETO_MESSAGES,) and forgotten.score <= 59


def test_links_found_made_absolute_and_sorted_by_kind():
    html = ('<a href="/news/a/">A</a><a href="mailto:x@y.cn">m</a><a href="#top">t</a>'
            '<img src="../media/p.png"><a href="https://Other.example/f.pdf?x=1#p">f</a>'
            "<a href='javascript:void(0)'>j</a><a href=/news/a/#frag>again</a>")
    found = links.extract_links(html, base_url="http://jia.test/news/")
    assert [(link.url, link.kind) for link in found] == [
        ("http://jia.test/news/a/", links.ANCHOR),
        ("http://jia.test/media/p.png", links.IMAGE),
        ("https://other.example/f.pdf?x=1", links.ATTACHMENT),
    ]


def test_only_404_403_410_are_confirmed_the_rest_suspect():
    assert links.judge(links.Outcome(status=200)) == links.OK
    for status in (404, 403, 410):
        assert links.judge(links.Outcome(status=status)) == links.BROKEN
    assert links.judge(links.Outcome(status=503)) == links.SUSPECT
    assert links.judge(links.Outcome(status=None, error="超时")) == links.SUSPECT
    start = NOW
    three_in_a_day = [start, start + datetime.timedelta(hours=2),
                      start + datetime.timedelta(hours=5)]
    assert not links.confirmed(failures=three_in_a_day, failures_needed=3, hours=24)
    spread = [start, start + datetime.timedelta(hours=12), start + datetime.timedelta(hours=24)]
    assert links.confirmed(failures=spread, failures_needed=3, hours=24)


def test_fingerprint_mutations():
    approved = fp.take(url="http://partner.cn/", final_url="http://partner.cn/", status=200,
                       title="合作学校", text="欢迎", harmful=())
    same = fp.take(url="http://partner.cn/", final_url="https://www.partner.cn/", status=200,
                   title="合作学校", text="欢迎", harmful=())
    assert fp.mutations(approved=approved, now=same) == ()
    moved = fp.take(url="http://partner.cn/", final_url="http://elsewhere.example/", status=200,
                    title="x", text="", harmful=())
    assert fp.mutations(approved=approved, now=moved) == (fp.REDIRECTED,)
    parked = fp.take(url="http://partner.cn/", final_url="http://partner.cn/", status=200,
                     title="partner.cn", text="This domain is for sale! 此域名出售", harmful=())
    assert fp.mutations(approved=approved, now=parked) == (fp.PARKED,)
    finding = Finding(kind="sensitive_word", severity="block", category="gambling", rule="赌场",
                      start=0, end=2, match="赌场", context="")
    gambling = fp.take(url="http://partner.cn/", final_url="http://partner.cn/", status=200,
                       title="x", text="", harmful=fp.harmful_matches([finding]))
    assert fp.mutations(approved=approved, now=gambling) == (fp.HARMFUL,)
    assert fp.Fingerprint.from_json(gambling.to_json()) == gambling


def test_fetching_is_polite_per_host_and_obeys_robots():
    """Each host's requests one at a time with the pause between them; robots.txt obeyed."""
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from review.health.fetch import ROBOTS_DISALLOWED, Politeness, fetch_all

    seen: list[tuple[int, str, float]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            port = self.server.server_address[1]
            seen.append((port, self.path, time.monotonic()))
            body = b"User-agent: *\nDisallow: /no\n" if self.path == "/robots.txt" else b"ok"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    servers = [ThreadingHTTPServer(("127.0.0.1", 0), Handler) for _ in range(2)]
    for httpd in servers:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        urls = [f"http://127.0.0.1:{httpd.server_address[1]}/{name}"
                for httpd in servers for name in ("a", "b", "c", "no")]
        results = fetch_all(urls, politeness=Politeness(concurrency=2, host_interval=0.15,
                                                        timeout=2))
    finally:
        for httpd in servers:
            httpd.shutdown()
    by_url = {result.url: result.outcome for result in results}
    assert len(by_url) == 8
    assert all(outcome.status == 200 for url, outcome in by_url.items()
               if not url.endswith("/no"))
    assert all(outcome.error == ROBOTS_DISALLOWED for url, outcome in by_url.items()
               if url.endswith("/no"))
    for httpd in servers:
        port = httpd.server_address[1]
        times = [at for p, path, at in seen if p == port and path != "/robots.txt"]
        assert [path for p, path, _at in seen if p == port] == ["/robots.txt", "/a", "/b", "/c"]
        # Three requests, two pauses of 0.15 s between their starts (the server sees each a
        # little after it starts, by a varying delay on a busy machine: the span, with slack).
        assert times[-1] - times[0] >= 0.25
