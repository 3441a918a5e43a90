"""Publishing pipeline figures: approval-to-live latency and concurrent approvals.

    .venv/bin/python bench/pipeline.py [--approvals 100] [--threads 16]

Runs against a throwaway PostgreSQL database on 127.0.0.1:5432 (user postgres), created and
dropped here. Each of --approvals articles is submitted and first-reviewed; then the leaders'
signed approvals (Argon2id at production cost) run at once on --threads threads, each with
its own database connection and transaction. Prints latency percentiles, throughput, the
number of register entries appended and whether the chain is intact.
"""

import argparse
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from throwaway import throwaway_database


def main() -> None:
    parser = argparse.ArgumentParser(description="发布流程性能：从审批到上线的延迟与并发审批。")
    parser.add_argument("--approvals", type=int, default=100)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--sequential", type=int, default=10,
                        help="先逐条计时的审批数（无竞争时的延迟）")
    args = parser.parse_args()

    with throwaway_database("cms_bench"):
        run(args.approvals, args.threads, args.sequential)


def run(approvals: int, threads: int, sequential: int) -> None:
    import django

    django.setup()
    from django.conf import settings

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # quiet
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("demo", production_keys=True, verbosity=0, stdout=quiet)

    from django.contrib.auth import get_user_model

    from cms.demo.content import DEMO_SIGNING_PASSPHRASE
    from cms.models import ArticlePage, ColumnPage
    from cms.publishing import act, submit
    from review.canonical import GENESIS_HASH, entry_hash
    from review.models import RegisterEntry

    users = {u.username: u for u in get_user_model().objects.all()}
    column = ColumnPage.objects.get(slug="news", url_path__startswith="/yizhong/")
    pages = []
    for number in range(approvals + sequential):
        page = ArticlePage(title=f"压测文章{number}", slug=f"bench-{number}", live=False,
                           body=[("paragraph", f"<p>第{number}篇。</p>")])
        column.add_child(instance=page)
        page.save_revision(user=users["yizhong_editor"])
        submit(page, user=users["yizhong_editor"])
        act(page, user=users["yizhong_admin"], action="approve", comment="")
        pages.append(page)
    leader = users["yizhong_leader"]
    solo = []
    for page in pages[approvals:]:
        started = time.perf_counter()
        act(page, user=leader, action="approve", comment="", passphrase=DEMO_SIGNING_PASSPHRASE)
        solo.append(time.perf_counter() - started)
    pages = pages[:approvals]
    before = RegisterEntry.objects.count()

    def approve(page) -> float:
        started = time.perf_counter()
        try:
            act(page, user=leader, action="approve", comment="", passphrase=DEMO_SIGNING_PASSPHRASE)
        finally:
            connection.close()
        return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        latencies = sorted(pool.map(approve, pages))
    elapsed = time.perf_counter() - started

    entries = list(RegisterEntry.objects.order_by("seq"))
    previous, intact = GENESIS_HASH, True
    for seq, entry in enumerate(entries, start=1):
        intact &= (entry.seq == seq and entry.entry["prev_hash"] == previous
                   and entry_hash(entry.entry) == entry.entry_hash)
        previous = entry.entry_hash
    live = ArticlePage.objects.filter(slug__startswith="bench-", live=True).count() - len(solo)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, round(p * (len(latencies) - 1)))] * 1000

    print(f"database              PostgreSQL {connection.pg_version // 10000}")
    print(f"approvals             {approvals} on {threads} threads, Argon2id 64 MiB t=3 p=1")
    print(f"approval-to-live, one at a time: median {statistics.median(solo) * 1000:.0f} ms, "
          f"max {max(solo) * 1000:.0f} ms over {len(solo)}")
    print(f"approval-to-live      median {statistics.median(latencies) * 1000:.0f} ms, "
          f"p95 {pct(0.95):.0f} ms, max {latencies[-1] * 1000:.0f} ms (sign + verify + publish "
          f"+ register, under contention)")
    print(f"throughput            {approvals / elapsed:.1f} approvals/s ({elapsed:.1f} s)")
    print(f"entries appended      {len(entries) - before} (live: {live})")
    print(f"chain intact          {intact} ({len(entries)} entries, seq 1..{entries[-1].seq})")


if __name__ == "__main__":
    main()
