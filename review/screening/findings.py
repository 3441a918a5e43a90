"""What the screener finds: one frozen, keyword-only record, used throughout screening and
turned into a dict only where it is stored as JSON (the screening task's findings, a rescan's
matches, the ``scan`` command's output).

A finding is ``{kind, severity, category, rule, start, end, match, context, field,
suggestion}``:
``start``/``end`` index the text it was found in (for HTML, its source), ``field`` says which
part of an object or which file that text was. Plain code, no Django.
"""

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

from review.screening.pii import PERSONAL_NUMBER_KINDS, mask

BLOCK, REVIEW, WARN = "block", "review", "warn"


@dataclass(frozen=True, kw_only=True)
class Finding:
    kind: str
    severity: str
    category: str
    rule: str
    start: int
    end: int
    match: str
    context: str
    field: str = ""
    # What to write instead (expression errors and typos); "" when there is nothing to say.
    suggestion: str = ""

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Finding":
        """A finding as stored; keys it does not know (from older records) are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    @property
    def maskable(self) -> bool:
        """A personal number, which an author can mask with one click."""
        return self.kind in PERSONAL_NUMBER_KINDS

    @property
    def shown_match(self) -> str:
        """What messages, comments and logs may repeat of it: personal numbers masked."""
        if self.maskable:
            return mask(self.match)
        return self.match[:40]


def blocking(findings: list[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.severity == BLOCK]


def needing_reason(findings: list[Finding]) -> list[Finding]:
    """Findings a reviewer may pass only with a recorded reason."""
    return [finding for finding in findings if finding.severity == REVIEW]


def summarise(findings: list[Finding], *, limit: int = 5) -> str:
    shown = "；".join(f"{f.rule if f.kind == 'sensitive_word' else f.kind}“{f.shown_match}”"
                     + (f"（应为“{f.suggestion}”）" if f.suggestion else "")
                     for f in findings[:limit])
    return shown + (f" 等 {len(findings)} 处" if len(findings) > limit else "")


SEVERITY_LABELS = {BLOCK: "拦截", REVIEW: "须复核", WARN: "提示"}
KIND_LABELS = {
    "sensitive_word": "敏感词", "id_number": "身份证号", "phone_number": "手机号",
    "bank_card": "银行卡号", "hidden_content": "隐藏内容", "unsafe_markup": "不安全代码",
    "attachment_error": "附件无法读取", "spam": "垃圾内容", "expression": "严重表述错误",
    "typo": "错别字",
}
_ATTRIBUTE_LABELS = {"（title）": "（标题）", "（description）": "（说明）"}
# Names of block parts the screener reads, for people (models' fields come with ``labels``).
_PART_LABELS = {"alt": "替代文字", "caption": "标题", "text": "文字", "title": "标题"}
_PATH = re.compile(r"[A-Za-z_]\w*(?:\[\d+\]|\.[A-Za-z_]\w*)*")
_PATH_PART = re.compile(r"([A-Za-z_]\w*)|\[(\d+)\]")


def readable_location(field: str, *, labels: Mapping[str, str] | None = None) -> str:
    """Where a finding is, for people: ``body[0]`` → "正文 第 1 块", ``body[2].caption`` →
    "正文 第 3 块 标题". ``labels`` names the model's fields (their verbose names); a part
    it does not name is shown as it is. Locations already in words (attachments) keep them."""
    if not _PATH.fullmatch(field or ""):
        for english, chinese in _ATTRIBUTE_LABELS.items():
            field = field.replace(english, chinese)
        return field
    names = {**_PART_LABELS, **(labels or {})}
    words: list[str] = []
    first_index = True
    for name, index in _PATH_PART.findall(field):
        if name:
            words.append(names.get(name, name))
        else:
            words.append(f"第 {int(index) + 1} {'块' if first_index else '项'}")
            first_index = False
    return " ".join(words)


def describe_finding(finding: Finding, *, labels: Mapping[str, str] | None = None) -> str:
    """One line for a message or an e-mail: what, which rule, where, in what context."""
    what = KIND_LABELS.get(finding.kind, finding.kind)
    if finding.kind == "sensitive_word":
        what += f"（{finding.category}）"
    where = readable_location(finding.field, labels=labels)
    # A personal number is never repeated whole outside the editor.
    context = finding.context.replace(finding.match, f"【{finding.shown_match}】")
    suggestion = f"（应为“{finding.suggestion}”）" if finding.suggestion else ""
    return (f"{what}“{finding.shown_match}”{suggestion}" + (f"，位置：{where}" if where else "")
            + (f"，上下文：{context[:80]}" if context else ""))
