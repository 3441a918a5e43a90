"""The security audit log (安全审计日志): appended in a chain, refused changes, verification
that catches tampering done behind the ORM's back, signed checkpoints, exports (the command and
the admin report, each itself an event), the retention policy of every log, and pruning of
Wagtail's audit log. No world: events are recorded directly."""

import csv
import datetime
import hashlib
import io
import types

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry, Page, PageLogEntry

import review.register.security as security
from review.canonical import GENESIS_HASH, canonical_json, entry_hash
from review.models import AppendOnlyError, SecurityCheckpoint, SecurityEvent, SecurityLogHead
from review.register import merkle, signednote
from review.register.chain import REGISTER, SECURITY_LOG
from review.register.checkpoints import checkpoint_root, make_checkpoint
from review.register.logkey import load_log_key
from review.register.security import EVENTS, record_security_event
from review.reports import LOCAL_TZ
from review.retention import MINIMUM_DAYS, retention_problems, rotating_file_problems
from tests.review.support.tamper import raw_delete, raw_update, run_command
from tests.shared import PASSWORD

HEADINGS = ["序号", "时间", "操作人", "对象", "地址", "事件", "结果", "详情"]


def run(*args) -> tuple[int, str]:
    return run_command("security_log", *args)


def beijing(day: datetime.date, hour: int = 12) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=LOCAL_TZ)


def record_at(monkeypatch, moment: datetime.datetime, **kwargs) -> SecurityEvent:
    """An event recorded at ``moment`` (the log's clock set back or forward)."""
    monkeypatch.setattr(security, "timezone", types.SimpleNamespace(now=lambda: moment))
    try:
        return record_security_event(**kwargs)
    finally:
        monkeypatch.undo()


@pytest.fixture
def events(db) -> list[SecurityEvent]:
    """Five events of the kinds the log keeps."""
    return [
        record_security_event(event="login", actor_name="yz_admin", address="10.0.0.7"),
        record_security_event(event="login_failed", outcome="failure", actor_name="nobody",
                              address="10.0.0.9", data={"reason": "bad password"}),
        record_security_event(event="role_granted", actor_name="county_accounts",
                              subject="user:一中领导", address="10.0.0.8",
                              data={"group": "一中·领导"}),
        record_security_event(event="credential_enrolled", actor_name="yz_leader",
                              subject="credential:ab12", address="10.0.0.10"),
        record_security_event(event="logout", actor_name="yz_admin", address="10.0.0.7"),
    ]


# --- Appending and refusing changes ---------------------------------------------------------


def test_events_are_appended_in_a_chain(events):
    rows = list(SecurityEvent.objects.order_by("seq"))
    assert [row.seq for row in rows] == [1, 2, 3, 4, 5]
    previous = GENESIS_HASH
    for row in rows:
        assert row.entry["prev_hash"] == previous
        assert row.entry_hash == hashlib.sha256(canonical_json(row.entry)).hexdigest()
        previous = row.entry_hash
    assert SecurityLogHead.objects.get(pk=1).entry_hash == previous
    assert rows[1].entry["outcome"] == rows[1].outcome == "failure"
    assert rows[2].entry["data"] == {"group": "一中·领导"}
    with pytest.raises(ValueError):
        record_security_event(event="no_such_event")
    assert SecurityEvent.objects.count() == 5


def test_the_orm_cannot_change_or_remove_events_or_checkpoints(events):
    checkpoint = make_checkpoint(log=SECURITY_LOG)
    event = SecurityEvent.objects.first()
    event.actor = "someone_else"
    for attempt in (event.save, event.delete, checkpoint.save, checkpoint.delete,
                    lambda: SecurityEvent.objects.update(actor="x"),
                    lambda: SecurityEvent.objects.all().delete(),
                    lambda: SecurityCheckpoint.objects.update(size=0),
                    lambda: SecurityCheckpoint.objects.all().delete()):
        with pytest.raises(AppendOnlyError):
            attempt()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL trigger")
def test_on_postgresql_the_database_refuses_updates_and_deletes(events):
    make_checkpoint(log=SECURITY_LOG)
    for table in ("review_securityevent", "review_securitycheckpoint"):
        for sql in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
                c.execute(sql)
    assert SecurityEvent.objects.count() == 5 and SecurityCheckpoint.objects.count() == 1


def test_only_the_view_permission_exists(db):
    codenames = set(Permission.objects.filter(
        content_type=ContentType.objects.get_for_model(SecurityEvent))
        .values_list("codename", flat=True))
    assert codenames == {"view_securityevent"}


# --- Verification ---------------------------------------------------------------------------


def test_an_untouched_log_verifies(events):
    make_checkpoint(log=SECURITY_LOG)
    code, out = run("verify")
    assert code == 0 and "INTACT" in out and "5 条" in out and "1 个检查点" in out


def test_an_edited_entry_is_named(events):
    entry = SecurityEvent.objects.get(seq=2).entry
    raw_update("review_securityevent", {"entry": {**entry, "actor": "yz_admin"}}, "seq = %s",
               [2])
    code, out = run("verify")
    assert code == 1 and "TAMPERED" in out and "entry #2" in out and "哈希不符" in out


def test_an_edited_column_is_named(events):
    """The admin shows and filters on the columns: one changed alone is caught too."""
    raw_update("review_securityevent", {"actor": "somebody"}, "seq = %s", [3])
    code, out = run("verify")
    assert code == 1 and "entry #3" in out and "actor" in out


def test_an_edited_time_is_named(events):
    raw_update("review_securityevent", {"at": "2020-01-01 00:00:00"}, "seq = %s", [4])
    code, out = run("verify")
    assert code == 1 and "entry #4" in out and "时间" in out


def test_a_deleted_entry_is_named(events):
    raw_delete("review_securityevent", "seq = %s", [3])
    code, out = run("verify")
    assert code == 1 and "entry #3" in out and "缺失" in out


def test_reordered_entries_are_named(events):
    raw_update("review_securityevent", {"seq": 10**9}, "seq = %s", [2])
    raw_update("review_securityevent", {"seq": 2}, "seq = %s", [3])
    raw_update("review_securityevent", {"seq": 3}, "seq = %s", [10**9])
    code, out = run("verify")
    assert code == 1 and "entry #2" in out


def test_a_deleted_last_entry_is_caught_by_the_head(events):
    raw_delete("review_securityevent", "seq = %s", [5])
    code, out = run("verify")
    assert code == 1 and "entry #5" in out and "缺失" in out


def test_a_rewritten_chain_is_caught_by_the_checkpoint(events):
    """Someone with the database removes the failed login and re-chains every later event and
    the head: hashes and links hold again, but the signed checkpoint no longer does."""
    make_checkpoint(log=SECURITY_LOG)
    raw_delete("review_securityevent", "seq = %s", [2])
    previous = SecurityEvent.objects.get(seq=1).entry_hash
    for row in SecurityEvent.objects.filter(seq__gt=2).order_by("seq"):
        entry = dict(row.entry, seq=row.seq - 1, prev_hash=previous)
        previous = entry_hash(entry)
        raw_update("review_securityevent",
                   {"entry": entry, "entry_hash": previous, "seq": row.seq - 1}, "seq = %s",
                   [row.seq])
    raw_update("review_securityloghead", {"seq": 4, "entry_hash": previous}, "id = %s", [1])
    code, out = run("verify")
    assert code == 1 and "检查点" in out


# --- Checkpoints ----------------------------------------------------------------------------


def test_a_checkpoint_is_a_signed_note_of_the_merkle_root(events):
    checkpoint = make_checkpoint(log=SECURITY_LOG)
    assert checkpoint.size == 5 and isinstance(checkpoint, SecurityCheckpoint)
    leaves = [merkle.leaf_hash(canonical_json(event.entry))
              for event in SecurityEvent.objects.order_by("seq")]
    assert checkpoint_root(checkpoint) == merkle.root(leaves)
    body, [(name, key_hash, signature)] = signednote.parse_signed_note(checkpoint.note)
    origin, size, _ = signednote.parse_checkpoint_body(body)
    assert origin == name == checkpoint.origin == SECURITY_LOG.origin() != REGISTER.origin()
    assert size == 5
    public = load_log_key().public_key()  # the register's log key
    public.verify(signature, body.encode())  # raises if it does not hold
    assert key_hash == signednote.ed25519_key_hash(name, public.public_bytes_raw())
    assert make_checkpoint(log=SECURITY_LOG) == checkpoint  # nothing new: the same one
    code, out = run("checkpoint")
    assert code == 0 and out.startswith(f"{origin}\n5\n")
    assert SecurityCheckpoint.objects.count() == 2
    assert not REGISTER.checkpoints.objects.exists()  # the register's are apart


def test_a_forged_checkpoint_signature_is_caught(events):
    checkpoint = make_checkpoint(log=SECURITY_LOG)
    body, [(name, key_hash, signature)] = signednote.parse_signed_note(checkpoint.note)
    forged = signednote.signed_note(body, name=name, key_hash=key_hash,
                                    signature=bytes([signature[0] ^ 1]) + signature[1:])
    raw_update("review_securitycheckpoint", {"note": forged}, "id = %s", [checkpoint.pk])
    code, out = run("verify")
    assert code == 1 and "签名无效" in out


# --- Exports --------------------------------------------------------------------------------


def exported_events(**data) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(event="security_log_exported", **data))


def test_jsonl_export_is_the_stored_entries_verifiable_offline(events, tmp_path):
    checkpoint = make_checkpoint(log=SECURITY_LOG)
    out = tmp_path / "security.jsonl"
    code, _ = run("export", "--format", "jsonl", "-o", str(out))
    assert code == 0
    lines = out.read_bytes().splitlines(keepends=True)
    assert lines == [canonical_json(event.entry) + b"\n" for event in events]
    [export] = exported_events()
    assert export.actor.startswith("系统账户") and export.entry["data"]["format"] == "jsonl"
    assert export.entry["data"]["entries"] == 5

    note = tmp_path / "checkpoint.txt"
    note.write_text(checkpoint.note, encoding="utf-8")
    code, report = run("verify", "--file", str(out), "--checkpoint", str(note))
    assert code == 0 and "INTACT" in report and "1 个检查点" in report

    edited = tmp_path / "edited.jsonl"
    edited.write_bytes(b"".join(lines).replace(b"nobody", b"nobodx"))
    code, report = run("verify", "--file", str(edited))
    assert code == 1 and "entry #3" in report  # seq 3's prev_hash no longer matches
    shortened = tmp_path / "shortened.jsonl"
    shortened.write_bytes(b"".join([lines[0], *lines[2:]]))
    code, report = run("verify", "--file", str(shortened))
    assert code == 1 and "entry #2" in report
    code, report = run("verify", "--file", str(shortened), "--checkpoint", str(note))
    assert code == 1


def test_csv_export_has_chinese_headings_and_labels(events, tmp_path):
    out = tmp_path / "security.csv"
    code, _ = run("export", "-o", str(out))  # the format from the file name
    assert code == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == HEADINGS
    assert [row[0] for row in rows[1:]] == ["1", "2", "3", "4", "5"]
    failed = rows[2]
    assert failed[2:7] == ["nobody", "", "10.0.0.9", "登录失败", "失败"]
    assert '"reason": "bad password"' in failed[7]
    assert rows[3][3] == "user:一中领导" and rows[3][5] == "授予角色"
    local = events[0].at.astimezone(LOCAL_TZ)
    assert rows[1][1] == local.strftime("%Y-%m-%d %H:%M:%S")
    assert exported_events()[0].entry["data"]["format"] == "csv"


def test_xlsx_export(events, tmp_path):
    out = tmp_path / "security.xlsx"
    code, _ = run("export", "--format", "xlsx", "-o", str(out))
    assert code == 0
    sheet = openpyxl.load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADINGS
    assert rows[1][2] == "yz_admin" and rows[1][5] == "登录" and rows[1][6] == "成功"
    local = events[0].at.astimezone(LOCAL_TZ).replace(tzinfo=None)
    assert abs(rows[1][1] - local) < datetime.timedelta(seconds=1)  # Beijing time


def test_export_by_beijing_days(db, monkeypatch, tmp_path):
    days = [datetime.date(2026, 3, d) for d in (1, 2, 3)]
    for day in days:
        record_at(monkeypatch, beijing(day, 0) + datetime.timedelta(minutes=30),
                  event="login", actor_name=f"user{day.day}")
    out = tmp_path / "march.csv"
    code, _ = run("export", "--from", "2026-03-02", "--to", "2026-03-02", "-o", str(out))
    assert code == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8")[1:])))
    assert [row[2] for row in rows[1:]] == ["user2"]  # 00:30 Beijing is the day before in UTC
    assert exported_events()[0].entry["data"]["from"] == "2026-03-02"


def test_bad_export_requests_change_nothing(events, tmp_path):
    existing = tmp_path / "there.csv"
    existing.write_text("keep", encoding="utf-8")
    for args in (["-o", str(existing)], ["--format", "xlsx"],
                 ["--from", "2026-03-05", "--to", "2026-03-01"], ["--from", "yesterday"],
                 ["-o", str(tmp_path / "log.txt")]):
        with pytest.raises(Exception) as error:
            call_command("security_log", "export", *args)
        assert getattr(error.value, "returncode", 2) == 2
    assert existing.read_text(encoding="utf-8") == "keep"
    assert not exported_events()


# --- Retention ------------------------------------------------------------------------------


def test_retention_below_six_months_is_refused():
    assert retention_problems(values={"SECURITY_LOG_RETENTION_DAYS": 180}) == []
    assert retention_problems(values={"AUDIT_LOG_RETENTION_DAYS": 3650}) == []
    for bad in (179, 0, -1, "200", None, True):
        [message] = retention_problems(values={"SECURITY_LOG_RETENTION_DAYS": bad})
        assert "SECURITY_LOG_RETENTION_DAYS" in message and "180" in message


def test_rotating_log_files_keep_six_months():
    handler = "logging.handlers.TimedRotatingFileHandler"
    assert rotating_file_problems(logging_config={"handlers": {
        "file": {"class": handler, "when": "midnight", "backupCount": 180}}}) == []
    assert rotating_file_problems(logging_config={"handlers": {
        "file": {"class": handler, "when": "midnight", "backupCount": 179}}})
    assert rotating_file_problems(logging_config={"handlers": {
        "file": {"class": handler, "when": "H", "backupCount": 180}}})  # 180 hours


def test_the_settings_keep_application_logs_six_months():
    from django.conf import settings

    handler = settings.LOGGING["handlers"]["file"]
    assert handler["class"] == "logging.handlers.TimedRotatingFileHandler"
    assert handler["when"] == "midnight" and handler["backupCount"] >= MINIMUM_DAYS
    assert "file" in settings.LOGGING["root"]["handlers"]


def review_errors() -> set[str]:
    return {message.id for message in checks.run_checks() if message.id.startswith("review.")}


def test_system_check_refuses_179_days(db):
    assert review_errors() == set()
    with override_settings(SECURITY_LOG_RETENTION_DAYS=179):
        assert review_errors() == {"review.E001"}
        with pytest.raises(SystemCheckError, match="SECURITY_LOG_RETENTION_DAYS"):
            call_command("check")
    with override_settings(AUDIT_LOG_RETENTION_DAYS=179):
        assert review_errors() == {"review.E002"}
    with override_settings(APP_LOG_RETENTION_DAYS=90):
        assert review_errors() == {"review.E003"}


def wagtail_log_entries(now: datetime.datetime, ages: list[int]) -> None:
    """One model and one page log entry of each age in days."""
    page = Page.get_first_root_node()
    content_type = ContentType.objects.get_for_model(Page)
    for age in ages:
        timestamp = now - datetime.timedelta(days=age)
        ModelLogEntry.objects.create(content_type=content_type, label=f"{age}",
                                     action="wagtail.edit", object_id=str(page.pk),
                                     timestamp=timestamp)
        PageLogEntry.objects.create(content_type=content_type, label=f"{age}",
                                    action="wagtail.edit", page=page, timestamp=timestamp)


def surviving(model) -> list[int]:
    return sorted(int(label) for label in model.objects.values_list("label", flat=True))


def test_prune_keeps_young_entries_and_deletes_old_ones(events):
    now = timezone.now()
    wagtail_log_entries(now, [1, 179, 181, 400])
    code, out = run("prune", "--dry-run")
    assert code == 0 and "共 4 条" in out and surviving(PageLogEntry) == [1, 179, 181, 400]
    code, out = run("prune")
    assert code == 0 and "4 条" in out
    assert surviving(ModelLogEntry) == surviving(PageLogEntry) == [1, 179]
    assert list(SecurityEvent.objects.values_list("seq", flat=True)) == [1, 2, 3, 4, 5, 6]
    [pruned] = SecurityEvent.objects.filter(event="audit_log_pruned")
    assert pruned.entry["data"]["deleted"] == {"wagtailcore.ModelLogEntry": 2,
                                               "wagtailcore.PageLogEntry": 2}
    assert run("verify")[0] == 0


@override_settings(AUDIT_LOG_RETENTION_DAYS=365)
def test_prune_honours_a_longer_retention(db):
    wagtail_log_entries(timezone.now(), [200, 366])
    run("prune")
    assert surviving(ModelLogEntry) == surviving(PageLogEntry) == [200]


# --- The admin report -----------------------------------------------------------------------


def report_url(**params) -> str:
    from urllib.parse import urlencode

    return reverse("review_security_log") + (f"?{urlencode(params)}" if params else "")


def staff(username: str, *, may_see: bool = False):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    if may_see:  # as the integrator grants it: through a group
        group = Group.objects.create(name=f"{username}·账号管理员")
        group.permissions.add(Permission.objects.get(codename="view_securityevent"))
        user.groups.add(group)
    return user


def test_plain_staff_are_refused(client, events):
    client.force_login(staff("plain_staff"))
    response = client.get(report_url())
    assert response.status_code == 403
    assert client.get(report_url(export="csv")).status_code == 403
    assert not exported_events()
    assert "安全审计日志" not in client.get(reverse("wagtailadmin_home")).content.decode()


def test_holders_of_the_permission_see_the_log(client, events):
    client.force_login(staff("accounts_admin", may_see=True))
    response = client.get(report_url())
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("安全审计日志", "登录失败", "授予角色", "user:一中领导", "10.0.0.9", "失败"):
        assert text in html
    assert reverse("review_security_log") in client.get(reverse("wagtailadmin_home")) \
        .content.decode()


def test_superusers_see_the_log(client, events):
    client.force_login(get_user_model().objects.create_superuser(
        username="root", password=PASSWORD))
    assert client.get(report_url()).status_code == 200


def test_filters(client, events, monkeypatch):
    record_at(monkeypatch, beijing(datetime.date(2026, 1, 15)), event="lockout",
              actor_name="old_event", outcome="failure")
    client.force_login(staff("accounts_admin", may_see=True))

    def shown(**params) -> set[str]:
        response = client.get(report_url(**params))
        assert response.status_code == 200
        html = response.content.decode()
        return {name for name in ("yz_admin", "nobody", "county_accounts", "yz_leader",
                                  "old_event") if name in html}

    assert shown(event="role_granted") == {"county_accounts"}
    assert shown(actor="yz_admin") == {"yz_admin"}
    assert shown(outcome="failure") == {"nobody", "old_event"}
    assert shown(date_from="2026-01-15", date_to="2026-01-15") == {"old_event"}
    assert "old_event" not in shown(date_from="2026-01-16")


def test_exports_are_recorded(client, events):
    user = staff("accounts_admin", may_see=True)
    client.force_login(user)
    response = client.get(report_url(export="csv", event="logout"),
                          REMOTE_ADDR="192.0.2.5")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == HEADINGS and [row[5] for row in rows[1:]] == ["退出登录"]
    [export] = exported_events()
    assert (export.actor, export.address, export.entry["data"]) == (
        "accounts_admin", "192.0.2.5", {"format": "csv", "filters": {"event": "logout"}})

    response = client.get(report_url(export="xlsx"))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert list(next(sheet.iter_rows(values_only=True))) == HEADINGS
    assert [e.entry["data"]["format"] for e in exported_events()] == ["csv", "xlsx"]
    assert run("verify")[0] == 0


# --- Exports of the publication register ----------------------------------------------------


def test_register_exports_are_recorded(client, db, tmp_path):
    client.force_login(get_user_model().objects.create_superuser(
        username="root", password=PASSWORD))
    response = client.get(reverse("review_register") + "?export=xlsx", REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 200
    code, _ = run_command("publication_log", "export", "--out", str(tmp_path / "bundle"))
    assert code == 0
    web, command = SecurityEvent.objects.filter(event="register_exported").order_by("seq")
    assert (web.actor, web.address, web.entry["data"]["format"]) == ("root", "192.0.2.7", "xlsx")
    assert command.actor.startswith("系统账户") and command.entry["data"]["format"] == "bundle"
    assert command.subject == str(tmp_path / "bundle")


def test_every_event_has_a_chinese_label():
    assert all(label and not label.isascii() for label in EVENTS.values())
