"""Chinese search timings (issue 18, finding 7): the admin's and the API's search through
cms.search_backend, over --objects indexed objects, on SQLite or PostgreSQL.

    .venv/bin/python bench/search_cjk.py [--objects 100000] [--database sqlite|postgresql]

The objects are Wagtail documents (a flat table: 100,000 of them are made in seconds, where
pages would take the tree's inserts), titled from a vocabulary of school-news phrases and
indexed through the backend as any save indexes them (Han unigrams and bigrams). Prints the
indexing time and, per query, the median time to count and to fetch the first 20 results.
SQLite runs in a throwaway CMS_DATA_DIR; PostgreSQL in a throwaway database (bench/throwaway).
"""

import argparse
import contextlib
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHRASES = ["开学典礼", "读书活动", "运动会", "家长会", "安全教育", "教学反思", "招生简章",
           "期中考试", "校园文化艺术节", "防溺水", "食品安全", "教研活动", "课后服务",
           "志愿服务", "心理健康", "劳动教育", "科技创新大赛", "消防演练", "班主任培训"]
SCHOOLS = ["城关中学", "实验小学", "第一中学", "第二小学", "职业高中", "幼儿园"]
QUERIES = ["开学", "典礼", "开学典礼", "校园文化艺术节", "读书 活动", "exam"]
BATCH = 5_000


@contextlib.contextmanager
def sqlite_database():
    sys.path.insert(0, str(ROOT))
    os.environ.pop("DATABASE_URL", None)
    os.environ["CMS_DATA_DIR"] = tempfile.mkdtemp(prefix="cms-bench-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "cms.settings.dev"
    yield "sqlite"


def title(rng: random.Random, number: int) -> str:
    return f"{rng.choice(SCHOOLS)}{rng.choice(PHRASES)}{rng.choice(PHRASES)}通知（{number}）"


def median_ms(run, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    if args.database == "postgresql":
        sys.path.insert(0, str(ROOT / "bench"))
        from throwaway import throwaway_database
        context = throwaway_database("search_bench")
    else:
        context = sqlite_database()
    with context:
        import django

        django.setup()
        from django.core.management import call_command
        from wagtail.documents import get_document_model
        from wagtail.models import Collection
        from wagtail.search.backends import get_search_backend

        call_command("migrate", verbosity=0)
        Document = get_document_model()
        backend = get_search_backend()
        collection = Collection.get_first_root_node()
        rng = random.Random(18)
        started = time.perf_counter()
        for start in range(0, args.objects, BATCH):
            documents = Document.objects.bulk_create(
                Document(title=title(rng, number), file=f"documents/bench-{number}.pdf",
                         collection=collection)
                for number in range(start, min(start + BATCH, args.objects)))
            backend.add_bulk(Document, documents)
        indexed = time.perf_counter() - started
        print(f"{args.database}: {args.objects} documents indexed in {indexed:.1f} s "
              f"({args.objects / indexed:.0f}/s)")
        for query in QUERIES:
            results = backend.search(query, Document)
            count = results.count()
            count_ms = median_ms(lambda q=query: backend.search(q, Document).count())
            first_ms = median_ms(lambda q=query: list(backend.search(q, Document)[:20]))
            auto_ms = median_ms(lambda q=query: list(backend.autocomplete(q, Document)[:20]))
            print(f"  {query!r:12} {count:7d} found  count {count_ms:7.1f} ms  "
                  f"first 20 {first_ms:7.1f} ms  as you type {auto_ms:7.1f} ms")


if __name__ == "__main__":
    main()
