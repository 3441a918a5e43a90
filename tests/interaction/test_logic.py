"""Plain logic: working days, the intake checks, ticket codes, sealing contacts."""

import datetime

import pytest

from cms.interaction import crypto
from cms.interaction.deadlines import (
    Calendar,
    Stage,
    add_working_days,
    months_before,
    stage,
)
from cms.interaction.exceptions import Refused
from cms.interaction.intake import check_contact, check_text
from cms.interaction.submission import CODE_LENGTH, new_code, normalise_code

D = datetime.date


def test_five_working_days_skip_weekends_holidays_and_count_make_up_days():
    plain = Calendar()
    assert add_working_days(start=D(2026, 12, 3), days=5, calendar=plain) == D(2026, 12, 10)
    national_day = Calendar.from_iso(
        holidays=[f"2026-10-0{d}" for d in range(1, 9)], workdays=["2026-09-27", "2026-10-10"])
    # Received Friday 25 September: Sunday 27 is a make-up working day, 1–8 October are off.
    assert add_working_days(start=D(2026, 9, 25), days=5, calendar=national_day) == \
        D(2026, 10, 9)
    assert add_working_days(start=D(2026, 9, 25), days=6, calendar=national_day) == \
        D(2026, 10, 10)


def test_stages_warn_before_and_flag_after_the_due_day():
    cal = Calendar()
    due = D(2026, 12, 10)  # a Thursday
    assert stage(due=due, today=D(2026, 12, 3), warn_days=1, calendar=cal) == Stage.ON_TIME
    assert stage(due=due, today=D(2026, 12, 9), warn_days=1, calendar=cal) == Stage.WARNING
    assert stage(due=due, today=due, warn_days=1, calendar=cal) == Stage.WARNING
    assert stage(due=due, today=D(2026, 12, 11), warn_days=1, calendar=cal) == Stage.OVERDUE


def test_months_before_clamps_to_the_shorter_month():
    assert months_before(D(2026, 5, 31), 3) == D(2026, 2, 28)
    assert months_before(D(2026, 1, 15), 3) == D(2025, 10, 15)


@pytest.mark.parametrize(("value", "reason"), [
    ("", "empty"),
    ("字" * 101, "too_long"),
    ("PK\x03\x04\x00\x00binary", "binary"),
    ("bad utf-8 \ufffd here", "binary"),
    ("<script>alert(1)</script>", "script"),
    ('<img src=x onerror="alert(1)">', "script"),
    ("点这里 javascript:alert(1)", "script"),
])
def test_bad_text_is_refused_with_its_reason(value, reason):
    with pytest.raises(Refused) as refused:
        check_text(value, field="title", label="标题", max_chars=100)
    assert refused.value.reason == reason
    assert refused.value.field == "title"


def test_plain_text_passes_normalised():
    assert check_text("  请问 a<b 的作业\r\n何时交？ ", field="body", label="内容",
                      max_chars=100) == "请问 a<b 的作业\n何时交？"


def test_contact_formats():
    assert check_contact(name=" 张三 ", phone="138 0000 0000", email="") == {
        "name": "张三", "phone": "138 0000 0000", "email": ""}
    with pytest.raises(Refused):
        check_contact(name="", phone="call me", email="")
    with pytest.raises(Refused):
        check_contact(name="", phone="", email="not-an-address")


def test_ticket_codes_are_long_random_and_typed_forgivingly():
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(code) == CODE_LENGTH >= 8 for code in codes)
    code = next(iter(codes))
    assert normalise_code(f" {code[:4].lower()}-{code[4:]} ") == code


def test_contacts_are_sealed_and_bound_to_their_message(settings, tmp_path):
    settings.CMS_INTERACTION_KEY_FILE = tmp_path / "keys" / "contacts.key"
    sealed = crypto.seal({"name": "张三", "phone": "13800000000"}, code="ABCDEFGH2345")
    assert "张三".encode() not in sealed and b"13800000000" not in sealed
    assert crypto.open_sealed(sealed, code="ABCDEFGH2345")["name"] == "张三"
    assert (tmp_path / "keys" / "contacts.key").stat().st_mode & 0o777 == 0o600
    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        crypto.open_sealed(sealed, code="ZZZZZZZZ2345")  # copied onto another message
