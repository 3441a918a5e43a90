"""Public messages and reports (issue 22): a flood from one address, and handlers working a
large queue.

    .venv/bin/python bench/interaction.py [--flood 1000] [--queue 5000] [--handlers 10]
        [--database sqlite|postgresql] [--redis-url redis://127.0.0.1:6379/13]

* Flood: ``--flood`` POSTs of the 留言 form from one address to one school site, through the
  whole Django stack (middleware, CSRF off as for a robot replaying a form, the view, the
  rate limit, screening for those let through). Prints accepted and refused, the elapsed
  time (the issue's "in a minute": whether the flood fit in 60 s), and the time per refusal
  (median, 95th percentile). With --redis-url the counts live in Redis, as with several
  application servers; otherwise in the process's local-memory cache.
* Queue: ``--queue`` messages in one school's queue (contacts sealed), ``--handlers``
  designated handlers each listing the queue (first page), their own assignments, a keyword
  search, a search by ticket code, and one message. Prints median and 95th percentile per
  operation over all handlers (one after another: the figures are per request).

SQLite in a throwaway CMS_DATA_DIR, or PostgreSQL in a throwaway database (bench/throwaway).
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
WORDS = ["课后服务", "食堂", "作业", "校服", "招生", "收费", "校车", "体育课", "午休", "家长会",
         "补课", "奖学金", "宿舍", "考试安排", "假期"]


@contextlib.contextmanager
def sqlite_database():
    sys.path.insert(0, str(ROOT))
    os.environ.pop("DATABASE_URL", None)
    os.environ["CMS_DATA_DIR"] = tempfile.mkdtemp(prefix="cms-bench-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "cms.settings.dev"
    yield "sqlite"


def ms(values: list[float]) -> str:
    if not values:
        return "—"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered) * 1000:7.2f} ms  p95 {p95 * 1000:7.2f} ms"


def flood(client, *, count: int, host: str) -> None:
    from cms.interaction.models import Message, RefusalCount

    before = Message.objects.count()
    accepted = 0
    refused: dict[int, int] = {}
    refusal_times = []
    accepted_times = []
    started = time.perf_counter()
    for number in range(count):
        t0 = time.perf_counter()
        response = client.post("/interaction/message/", {
            "title": f"留言 {number}", "body": f"请问{random.choice(WORDS)}的安排？（{number}）",
            "name": "", "phone": "", "email": "", "website": ""},
            HTTP_HOST=host, REMOTE_ADDR="203.0.113.7")
        elapsed = time.perf_counter() - t0
        if response.status_code == 200:
            accepted += 1
            accepted_times.append(elapsed)
        else:
            refused[response.status_code] = refused.get(response.status_code, 0) + 1
            refusal_times.append(elapsed)
    total = time.perf_counter() - started
    stored = Message.objects.count() - before
    counted = sum(RefusalCount.objects.values_list("count", flat=True))
    print(f"flood: {count} submissions from one address in {total:.1f} s "
          f"({'within' if total <= 60 else 'beyond'} a minute)")
    print(f"  accepted {accepted} (stored {stored}), refused {sum(refused.values())} "
          f"{dict(sorted(refused.items()))}, refusals counted {counted}")
    print(f"  per refusal:  {ms(refusal_times)}")
    print(f"  per accepted: {ms(accepted_times)} (screened, sealed, stored)")


def queue(client, *, size: int, handlers: int, school) -> None:
    from django.contrib.auth import get_user_model
    from django.urls import reverse
    from django.utils import timezone

    from cms.interaction import crypto
    from cms.interaction.models import Handler, Message, Status
    from cms.interaction.submission import due_date, new_code
    from cms.models import Role

    rng = random.Random(22)
    User = get_user_model()
    people = []
    for number in range(handlers):
        user = User.objects.create_user(username=f"handler{number}", password="x-Bench-2026!")
        user.groups.add(school.groups[Role.TEACHER])
        Handler.objects.create(organisation=school.home_page, user=user)
        people.append(user)
    started = time.perf_counter()
    now = timezone.now()
    rows = []
    for number in range(size):
        code = new_code()
        received = now - timezone.timedelta(minutes=number * 7)
        word = rng.choice(WORDS)
        rows.append(Message(
            code=code, kind="message", organisation=school.home_page,
            sent_from=school.home_page, title=f"关于{word}的咨询（{number}）",
            body=f"请问学校{word}方面有什么规定？" * 5, received_at=received,
            due_on=due_date(received),
            status=rng.choice([Status.NEW, Status.IN_PROGRESS, Status.ANSWERED]),
            assignee=rng.choice(people),
            contact_sealed=crypto.seal({"name": f"家长{number}", "phone": "13800000000"},
                                       code=code)))
    Message.objects.bulk_create(rows, batch_size=1000)
    print(f"queue: {size} messages made (contacts sealed) in "
          f"{time.perf_counter() - started:.1f} s; {handlers} handlers")
    some_codes = [m.code for m in rows[:: max(1, size // 50)]]
    some_ids = list(Message.objects.order_by("?").values_list("pk", flat=True)[:handlers])
    timings: dict[str, list[float]] = {k: [] for k in
                                       ("list", "mine", "search", "code", "detail")}
    url = reverse("interaction_queue")
    for index, user in enumerate(people):
        client.force_login(user)
        for label, path in (
                ("list", url), ("mine", f"{url}?mine=1"),
                ("search", f"{url}?q={rng.choice(WORDS)}"),
                ("code", f"{url}?q={rng.choice(some_codes)}"),
                ("detail", reverse("interaction_detail", args=[some_ids[index]]))):
            for _ in range(3):
                t0 = time.perf_counter()
                response = client.get(path)
                timings[label].append(time.perf_counter() - t0)
                assert response.status_code == 200, (path, response.status_code)
    names = {"list": "list (first page of 50)", "mine": "my assignments", "search":
             "keyword search", "code": "search by code", "detail": "open a message"}
    for label, values in timings.items():
        print(f"  {names[label]:24} {ms(values)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flood", type=int, default=1000)
    parser.add_argument("--queue", type=int, default=5000)
    parser.add_argument("--handlers", type=int, default=10)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--redis-url", default="")
    args = parser.parse_args()
    if args.redis_url:
        os.environ["CMS_CACHE_BACKEND"] = "django.core.cache.backends.redis.RedisCache"
        os.environ["CMS_CACHE_LOCATION"] = args.redis_url
    if args.database == "postgresql":
        sys.path.insert(0, str(ROOT / "bench"))
        from throwaway import throwaway_database
        context = throwaway_database("interaction_bench")
    else:
        context = sqlite_database()
    with context:
        import django

        django.setup()
        from django.conf import settings
        from django.core.cache import caches
        from django.core.management import call_command
        from django.test import Client

        settings.DEBUG = False
        call_command("migrate", verbosity=0)
        caches[getattr(settings, "CMS_THROTTLE_CACHE", "default")].clear()
        from cms.organisations import create_portal, create_school

        create_portal(name="基准县教育局", hostname="localhost")
        school = create_school(name="基准中学", slug="jz", hostname="jz.localhost")
        print(f"{args.database}, cache {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}"
              f", limits: {settings.CMS_INTERACTION_ADDRESS_LIMIT} per address and "
              f"{settings.CMS_INTERACTION_SITE_LIMIT} per site per "
              f"{settings.CMS_INTERACTION_RATE_WINDOW} s")
        client = Client()
        flood(client, count=args.flood, host="jz.localhost")
        queue(client, size=args.queue, handlers=args.handlers, school=school)


if __name__ == "__main__":
    main()
