"""Teachers' semester resources: figures for the closing note.

    .venv/bin/python bench/resources.py [--teachers 2000] [--per-teacher 50]

Runs on a throwaway PostgreSQL database (127.0.0.1:5432, user postgres) and prints:
* the time to upload 50 files in one batch through the real 我的学期资源 view (documents,
  originals, registry numbers, revisions, submission with screening of every file);
* the semester report's time for TEACHERS × PER_TEACHER approved resources (bulk-created),
  as rows in memory and as the command's JSON and XLSX.
"""

import argparse
import io
import statistics
import time

from throwaway import throwaway_database


def main() -> None:
    parser = argparse.ArgumentParser(description="教师学期资源的性能数据。")
    parser.add_argument("--teachers", type=int, default=2000)
    parser.add_argument("--per-teacher", type=int, default=50)
    parser.add_argument("--files", type=int, default=50)
    args = parser.parse_args()
    with throwaway_database("cms_bench_resources"):
        run(teachers=args.teachers, per_teacher=args.per_teacher, files=args.files)


def run(*, teachers: int, per_teacher: int, files: int) -> None:
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from cms.models import Role
    from cms.organisations import create_portal, create_school
    from cms.resources.models import Resource
    from cms.resources.reports import report_xlsx, semester_report
    from cms.resources.rules import ResourceKind, registry_number
    from cms.resources.services import allocate_registry_sequences
    from tests.conftest import blank_pdf

    User = get_user_model()
    create_portal(name="基准县教育局", hostname="portal.bench")
    school = create_school(name="基准中学", slug="bench", hostname="bench.bench")
    from cms.resources.demo import current_semester

    semester = current_semester(today=timezone.localdate())
    teacher = User.objects.create_user("bench_teacher", password="x")
    teacher.groups.add(school.groups[Role.TEACHER])

    # --- 1. One batch of N files through the real view ---------------------------------
    client = Client()
    client.force_login(teacher)
    pdf = blank_pdf()
    uploads = [SimpleUploadedFile(f"课件{n:03d}.pdf", pdf, content_type="application/pdf")
               for n in range(files)]
    started = time.perf_counter()
    response = client.post(reverse("resources_mine"), {
        "semester": semester.pk, "kind": "courseware", "subject": "数学", "grade": "初二",
        "source_channel": "made", "visibility": "public", "files": uploads})
    upload_seconds = time.perf_counter() - started
    assert response.status_code == 302, response.content[:2000]
    filed = Resource.objects.filter(uploader=teacher).count()
    assert filed == files
    print(f"upload: {files} files in one batch through the view (stored, numbered, "
          f"submitted and screened): {upload_seconds:.2f} s "
          f"({upload_seconds / files * 1000:.0f} ms per file)")

    # --- 2. The report over TEACHERS × PER_TEACHER approved resources -------------------
    started = time.perf_counter()
    group = school.groups[Role.TEACHER]
    users = User.objects.bulk_create([User(username=f"t{n:05d}", password="!")
                                      for n in range(teachers)], batch_size=2000)
    group.user_set.through.objects.bulk_create(
        [group.user_set.through(user_id=user.pk, group_id=group.pk) for user in users],
        batch_size=5000)
    kinds = ResourceKind.values
    home = school.home_page
    total = teachers * per_teacher
    sequences = iter(allocate_registry_sequences(school=home, year=semester.start_year,
                                                 count=total))
    now = timezone.now()
    batch = []
    for index, user in enumerate(users):
        # Every other teacher files no paper, so half the rows are incomplete.
        filed_kinds = kinds if index % 2 == 0 else kinds[1:]
        for number in range(per_teacher):
            sequence = next(sequences)
            batch.append(Resource(
                school=home, semester=semester, title=f"资源{sequence}",
                kind=filed_kinds[number % len(filed_kinds)], subject="数学", grade="初二",
                source_channel="made", visibility="internal", uploader=user,
                registry_year=semester.start_year, registry_sequence=sequence,
                registry_number=registry_number(school_slug=home.slug,
                                                year=semester.start_year, sequence=sequence),
                live=False, approved_at=now))
        if len(batch) >= 20000:
            Resource.objects.bulk_create(batch, batch_size=5000)
            batch = []
    Resource.objects.bulk_create(batch, batch_size=5000)
    print(f"setup: {teachers} teachers, {Resource.objects.count()} resources bulk-created in "
          f"{time.perf_counter() - started:.1f} s")

    def timed(function, repeat=5):
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            result = function()
            times.append(time.perf_counter() - started)
        return statistics.median(times), result

    seconds, rows = timed(lambda: semester_report(schools=[home], semester=semester))
    assert len(rows) == teachers + 1
    complete = sum(row.progress.complete for row in rows)
    print(f"report rows: {len(rows)} teachers ({complete} complete) in {seconds * 1000:.0f} ms "
          "(median of 5)")
    seconds, _ = timed(lambda: call_command("semester_report", "--school", "bench",
                                            "--format", "json", stdout=io.StringIO()))
    print(f"semester_report --format json: {seconds * 1000:.0f} ms (median of 5)")
    seconds, content = timed(lambda: report_xlsx(semester_report(schools=[home],
                                                                 semester=semester)), repeat=3)
    print(f"semester_report XLSX: {seconds * 1000:.0f} ms, {len(content) // 1024} KB "
          "(median of 3)")
    client.force_login(User.objects.filter(groups=school.groups[Role.ADMINISTRATOR]).first()
                       or _administrator(school, User, Role))
    seconds, response = timed(lambda: client.get(reverse("resources_report")), repeat=3)
    assert response.status_code == 200
    print(f"admin report page with chart: {seconds * 1000:.0f} ms (median of 3)")


def _administrator(school, User, Role):
    user = User.objects.create_user("bench_admin", password="x")
    user.groups.add(school.groups[Role.ADMINISTRATOR])
    return user


if __name__ == "__main__":
    main()
