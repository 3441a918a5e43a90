"""What the screener finds: one frozen, keyword-only record, used throughout screening and
turned into a dict only where it is stored as JSON (the screening task's findings, a rescan's
matches, the ``scan`` command's output).

A finding is ``{kind, severity, category, rule, start, end, match, context, field}``:
``start``/``end`` index the text it was found in (for HTML, its source), ``field`` says which
part of an object or which file that text was. Plain code, no Django.
"""

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
                     for f in findings[:limit])
    return shown + (f" 等 {len(findings)} 处" if len(findings) > limit else "")
