"""Personal-information detectors: real numbers are found, decoys are not. Plain functions."""

import datetime

import pytest

from review.screening.pii import (
    ID_CHECK,
    ID_WEIGHTS,
    find_personal_information,
    id_number_valid,
    luhn_valid,
    mask,
)

TODAY = datetime.date(2026, 11, 21)


def with_check(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return first17 + ID_CHECK[total % 11]


def with_luhn(body: str) -> str:
    for digit in "0123456789":
        if luhn_valid(body + digit):
            return body + digit
    raise AssertionError


STUDENT_ID = with_check("35010220100315123")  # Fuzhou, born 2010-03-15
CARD = with_luhn("621700123456789012")  # 19 digits, UnionPay 62


def kinds(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.match) for f in find_personal_information(text, today=TODAY)]


def test_the_check_character_is_gb_11643():
    assert id_number_valid("11010519491231002X", today=TODAY)  # the standard's example
    assert not id_number_valid("110105194912310021", today=TODAY)


@pytest.mark.parametrize("text, expected", [
    (f"学生张三，身份证号{STUDENT_ID}，家庭困难。", [("id_number", STUDENT_ID)]),
    (f"ID:{STUDENT_ID.lower()}", [("id_number", STUDENT_ID.lower())]),
    ("家长电话13812345678。", [("phone_number", "13812345678")]),
    ("联系：138 1234 5678", [("phone_number", "138 1234 5678")]),
    ("联系：138-1234-5678", [("phone_number", "138-1234-5678")]),
    (f"资助卡{CARD}", [("bank_card", CARD)]),
    (f"卡号：{with_luhn('436742012345678')}", [("bank_card", with_luhn("436742012345678"))]),
    ("身份证：350102100315123", [("id_number", "350102100315123")]),
])
def test_real_numbers_are_found(text, expected):
    assert kinds(text) == expected


@pytest.mark.parametrize("text", [
    "订单号202611210830001234已发货",                # order number: no region, no check
    "统一社会信用代码91350100M000100Y43",             # credit code: letters break the run
    f"编号{STUDENT_ID[:-1]}{'0' if STUDENT_ID[-1] != '0' else '1'}",  # fails its check
    "身份证号350102201002301234",                      # 30 February does not exist
    "办公室电话0591-87654321",                          # landline
    "时间戳1732179000123",                              # millisecond timestamp
    "流水号201811121234567890123",                     # mobile inside a longer run
    "序号12812345678",                                  # 128 is not a mobile prefix
    f"参考号{with_luhn('436742012345678')}",          # Luhn but no UnionPay prefix, no context
    "学号350102100315123",                              # 15 digits without ID context
    f"卡号{with_luhn('62170012345678901')[:-1]}{'1' if with_luhn('62170012345678901')[-1] == '0' else '0'}",  # noqa: E501 - fails Luhn
    "1999年到2026年",
])
def test_decoys_do_not_fire(text):
    assert kinds(text) == []


def test_a_future_birth_date_is_not_an_id():
    assert not id_number_valid(with_check("35010220300315123"), today=TODAY)


def test_masks_keep_only_the_ends():
    assert mask("13812341234") == "138****1234"
    assert mask("138 1234 5678") == "138****5678"
    assert mask(STUDENT_ID) == STUDENT_ID[:6] + "********" + STUDENT_ID[-4:]
    assert mask(CARD) == CARD[:4] + "*" * 11 + CARD[-4:]


def test_offsets_index_the_text():
    text = f"名单：王五 {STUDENT_ID} 13900001111"
    for finding in find_personal_information(text, today=TODAY):
        assert text[finding.start:finding.end] == finding.match
