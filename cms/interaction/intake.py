"""Checking what the public sends before anything is stored: plain functions over strings.

Sizes, binary content and script are refused with a reason code (counted, never stored);
screening findings are the screener's (review.screening), applied by the caller.
"""

import re
import unicodedata

from cms.interaction.exceptions import Refused

# Control characters other than tab and line breaks, and the replacement character that a
# body which was not valid UTF-8 decodes to: files pasted or posted as text.
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
# Markup that would run or load something if a page ever showed it unescaped; plain text has
# no reason to contain it. (It is always shown escaped: this keeps it out of the queue.)
_SCRIPT = re.compile(
    r"<\s*/?\s*(?:script|iframe|object|embed|svg|img|style|link|meta|form|base|math)\b"
    r"|javascript\s*:|vbscript\s*:|data\s*:\s*text/html|\bon[a-z]{3,20}\s*=",
    re.IGNORECASE)


def check_text(value: str, *, field: str, label: str, max_chars: int,
               required: bool = True) -> str:
    """``value`` trimmed and normalised (NFC), or Refused."""
    if _BINARY.search(value or ""):
        raise Refused("binary", f"“{label}”含有无法识别的二进制内容或控制字符，请只填写文字。",
                      field=field)
    value = unicodedata.normalize("NFC", (value or "").replace("\r\n", "\n")).strip()
    if required and not value:
        raise Refused("empty", f"请填写“{label}”。", field=field)
    if len(value) > max_chars:
        raise Refused("too_long", f"“{label}”过长：最多 {max_chars} 个字，现有 {len(value)} 个字。",
                      field=field)
    if _SCRIPT.search(value):
        raise Refused("script", f"“{label}”含有网页脚本或代码，不能提交，请只填写文字。",
                      field=field)
    return value


EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")
PHONE = re.compile(r"^[0-9+\-() ]{5,30}$")


def check_contact(*, name: str, phone: str, email: str) -> dict:
    """The sender's contact details (all optional; anonymous messages are allowed)."""
    name = check_text(name, field="name", label="姓名", max_chars=50, required=False)
    phone = check_text(phone, field="phone", label="联系电话", max_chars=30, required=False)
    email = check_text(email, field="email", label="电子邮箱", max_chars=254, required=False)
    if phone and not PHONE.match(phone):
        raise Refused("invalid", "“联系电话”格式不正确：只能填写数字、空格和 + - ( )。",
                      field="phone")
    if email and not EMAIL.match(email):
        raise Refused("invalid", "“电子邮箱”格式不正确。", field="email")
    return {"name": name, "phone": phone, "email": email}
