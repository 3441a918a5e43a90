"""Fingerprints of external link targets (外链变异): what a target was when the page linking to
it was approved, and whether it has turned into something else since. Plain functions.

A fingerprint is the final address after redirects, its host, the page title, whether the
page reads like a parked or for-sale domain, and the harmful findings the screener reported in
its text (the caller passes the findings, so whatever detectors screening has apply here).
"""

import re
from dataclasses import asdict, dataclass, field

from review.health.links import host_of

REDIRECTED = "redirected_to_other_host"
PARKED = "parked_or_for_sale"
HARMFUL = "harmful_content"
REASON_LABELS = {
    REDIRECTED: "已跳转到其他网站",
    PARKED: "域名停放或待售页面",
    HARMFUL: "页面出现色情、赌博等有害内容",
}
# Words of parking services and domain sellers, in the languages such pages use. A school's
# partner site does not say these about itself.
PARKED_PATTERNS = re.compile("|".join([
    r"this domain (?:name )?(?:is|may be) for sale", r"buy this domain", r"domain (?:is )?for sale",
    r"is parked free", r"parked (?:free|domain|by)", r"domain parking", r"sedoparking",
    r"parkingcrew", r"bodis\.com", r"dan\.com", r"afternic", r"hugedomains",
    r"域名(?:正在)?(?:出售|转让|待售)", r"此域名(?:可)?(?:出售|转让)", r"本域名(?:出售|转让)",
    r"该域名(?:出售|转让|已过期)", r"域名停放", r"购买此域名",
]), re.IGNORECASE)
# Categories of screening findings that make a target harmful (linking to such content is a
# serious incident); sensitive words that block are harmful whatever their category.
HARMFUL_CATEGORIES = frozenset({"gambling", "pornography"})


@dataclass(frozen=True, kw_only=True)
class Fingerprint:
    url: str
    final_url: str
    host: str
    status: int | None
    title: str
    parked: bool
    harmful: tuple[str, ...] = field(default=())

    def to_json(self) -> dict:
        data = asdict(self)
        data["harmful"] = list(self.harmful)
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Fingerprint":
        return cls(url=data.get("url", ""), final_url=data.get("final_url", ""),
                   host=data.get("host", ""), status=data.get("status"),
                   title=data.get("title", ""), parked=bool(data.get("parked")),
                   harmful=tuple(data.get("harmful") or ()))


def harmful_matches(findings, *, categories: frozenset = HARMFUL_CATEGORIES) -> tuple[str, ...]:
    """The matched words of findings (``review.screening.findings.Finding``) that make a page
    harmful, each once."""
    found = []
    for finding in findings:
        harmful = finding.category in categories or (finding.kind == "sensitive_word"
                                                     and finding.severity == "block")
        if harmful and finding.match not in found:
            found.append(finding.match)
    return tuple(found[:20])


def looks_parked(*, title: str, text: str) -> bool:
    return bool(PARKED_PATTERNS.search(title) or PARKED_PATTERNS.search(text[:20_000]))


def take(*, url: str, final_url: str, status: int | None, title: str, text: str,
         harmful: tuple[str, ...]) -> Fingerprint:
    return Fingerprint(url=url, final_url=final_url or url, host=host_of(final_url or url),
                       status=status, title=title, parked=looks_parked(title=title, text=text),
                       harmful=harmful)


def _same_site(a: str, b: str) -> bool:
    """Hosts of one site: equal, or one the other with ``www.`` (a move to https or to www.
    is not a mutation)."""
    return a.removeprefix("www.") == b.removeprefix("www.")


def mutations(*, approved: Fingerprint | None, now: Fingerprint) -> tuple[str, ...]:
    """Why the target ``now`` is no longer what was approved (empty: it is fine)."""
    reasons = []
    reference_host = approved.host if approved is not None else host_of(now.url)
    if now.host and reference_host and not _same_site(now.host, reference_host):
        reasons.append(REDIRECTED)
    if now.parked and not (approved is not None and approved.parked):
        reasons.append(PARKED)
    if now.harmful:
        reasons.append(HARMFUL)
    return tuple(reasons)
