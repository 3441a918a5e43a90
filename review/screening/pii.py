"""Students' personal information in text: resident ID numbers, mobile numbers, bank cards.

Publishing them is forbidden (教财厅函〔2017〕28号: aid lists with ID and card numbers). Each
detector checks what a real number must satisfy — ID: a valid region, a real birth date and
the GB 11643-1999 check character; mobile: an allocated prefix; card: the Luhn check and a
UnionPay prefix or nearby words like 卡号 — and none fires inside a longer run of digits, so
order numbers, credit codes, timestamps and landlines do not trip them. Plain functions.
"""

import datetime
import html
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

# GB/T 2260 province-level codes: the first two digits of every resident ID number.
PROVINCES = frozenset({
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
    50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
})
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
# Allocated mobile prefixes (the first three digits).
MOBILE_PREFIXES = frozenset(
    [f"13{d}" for d in range(10)] + ["145", "146", "147", "148", "149"]
    + [f"15{d}" for d in (0, 1, 2, 3, 5, 6, 7, 8, 9)] + ["162", "165", "166", "167"]
    + [f"17{d}" for d in range(9)] + [f"18{d}" for d in range(10)]
    + [f"19{d}" for d in (0, 1, 2, 3, 5, 6, 7, 8, 9)]
)
# The kinds of number a finding can be, which authors mask and messages never repeat whole.
PERSONAL_NUMBER_KINDS = frozenset({"id_number", "phone_number", "bank_card"})
CONTEXT_CHARS = 12
ID_CONTEXT = ("身份证", "证件号", "身份号", "公民身份")
CARD_CONTEXT = ("银行卡", "卡号", "账号", "帐号", "开户", "银行")

# A run of digits, possibly split by single spaces or hyphens (138 1234 5678, 6222-0212-...),
# ending in X for ID numbers; never preceded or followed by another digit or ASCII letter.
# The leading \d comes before the look-behind so that the engine can skip to digits quickly.
NUMBER_RUN = re.compile(r"\d(?<![0-9A-Za-z]\d)(?:[ -]?\d){10,18}(?:[Xx])?(?![0-9A-Za-z])")


@dataclass(frozen=True)
class NumberHit:
    """A personal number in the text; the screener makes a Finding of it."""

    kind: str  # id_number, phone_number, bank_card
    start: int
    end: int
    match: str
    rule: str


def digits_of(text: str) -> str:
    return re.sub(r"[ -]", "", text)


def id_number_valid(number: str, *, today: datetime.date | None = None) -> bool:
    """An 18-character resident ID: region, birth date and check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    if int(number[:2]) not in PROVINCES:
        return False
    try:
        born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if not datetime.date(1900, 1, 1) <= born <= (today or datetime.date.today()):
        return False
    check = ID_CHECK[sum(int(d) * w for d, w in zip(number, ID_WEIGHTS, strict=False)) % 11]
    return number[17].upper() == check


def legacy_id_valid(number: str) -> bool:
    """A 15-digit first-generation ID: region and a real birth date (19YYMMDD)."""
    if len(number) != 15 or not number.isdigit() or int(number[:2]) not in PROVINCES:
        return False
    try:
        datetime.date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    except ValueError:
        return False
    return True


def luhn_valid(number: str) -> bool:
    total = 0
    for position, digit in enumerate(reversed(number)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def mobile_valid(number: str) -> bool:
    return len(number) == 11 and number[0] == "1" and number[:3] in MOBILE_PREFIXES


def _near(text: str, start: int, words: tuple[str, ...]) -> bool:
    before = text[max(0, start - CONTEXT_CHARS):start]
    return any(word in before for word in words)


def find_personal_information(text: str, *,
                              today: datetime.date | None = None) -> Iterator[NumberHit]:
    for run in NUMBER_RUN.finditer(text):
        raw, number = run.group(), digits_of(run.group())
        start, end = run.span()
        if len(number) == 18 and id_number_valid(number, today=today):
            yield NumberHit("id_number", start, end, raw, "gb11643")
        elif len(number) == 15 and legacy_id_valid(number) and _near(text, start, ID_CONTEXT):
            yield NumberHit("id_number", start, end, raw, "legacy-id-with-context")
        elif mobile_valid(number) and (raw.isdigit() or _grouped_like_a_mobile(raw)):
            yield NumberHit("phone_number", start, end, raw, "mobile-prefix")
        elif 16 <= len(number) <= 19 and number.isdigit() and luhn_valid(number) and (
                number.startswith("62") or _near(text, start, CARD_CONTEXT)):
            rule = "luhn-unionpay" if number.startswith("62") else "luhn-with-context"
            yield NumberHit("bank_card", start, end, raw, rule)


def _grouped_like_a_mobile(raw: str) -> bool:
    """138 1234 5678 or 138-1234-5678: the usual 3-4-4 grouping, nothing else."""
    return re.fullmatch(r"\d{3}[ -]\d{4}[ -]\d{4}", raw) is not None


def mask(match: str) -> str:
    """What the author's one-click mask puts instead: 138****1234, 110105********123X.
    ``match`` may be written in HTML (138<b>1234</b>5678, &#49;38…) or other digits (１３８…)."""
    text = html.unescape(re.sub(r"<[^>]*>", "", match))
    number = "".join(str(unicodedata.digit(c)) if c.isdecimal() else c.upper()
                     for c in text if c.isdecimal() or c in "Xx")
    if len(number) == 11:
        return f"{number[:3]}****{number[-4:]}"
    if len(number) in (15, 18):
        return f"{number[:6]}{'*' * (len(number) - 10)}{number[-4:]}"
    return f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}"
