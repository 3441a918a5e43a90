"""Where a signer's authority comes from: who granted them their roles and when, and when
each of their signing keys was enrolled — read from the security audit log and the
credentials, for the approval form and the audit bundle. An auditor who sees that a leader's
role was granted, and their key enrolled, the day before they signed knows where to look."""

from review.pipeline.records import SigningCredential
from review.register.models import SecurityEvent

GRANT_EVENTS = ("role_granted", "role_revoked")


def signer_provenance(*, username: str) -> dict:
    """``{"username", "roles": [...], "credentials": [...]}``; every item names the security
    log entry (``seq``) it comes from, so it can be checked against an export of that log."""
    events = SecurityEvent.objects.filter(subject=f"user:{username}",
                                          event__in=GRANT_EVENTS).order_by("seq")
    roles = [{"seq": e.seq, "at": e.entry["at"], "event": e.event, "by": e.actor,
              "role": e.entry["data"].get("role", ""), "group": e.entry["data"].get("group", "")}
             for e in events]
    enrolments = {e.entry["data"].get("key_id"): e for e in SecurityEvent.objects.filter(
        subject=f"user:{username}", event="credential_enrolled")}
    credentials = []
    for credential in SigningCredential.objects.filter(user__username=username).order_by("pk"):
        logged = enrolments.get(credential.key_id)
        credentials.append({
            "key_id": credential.key_id, "kind": credential.kind, "name": credential.name,
            "enrolled_at": credential.created_at.isoformat(),
            "revoked_at": credential.revoked_at.isoformat() if credential.revoked_at else None,
            "enrolment_seq": logged.seq if logged else None,
        })
    return {"username": username, "roles": roles, "credentials": credentials}


def _local(iso: str | None) -> str:
    import datetime

    from django.utils import timezone

    if not iso:
        return ""
    moment = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def provenance_lines(*, username: str) -> list[str]:
    """The provenance as sentences for people (local time), oldest first."""
    provenance = signer_provenance(username=username)
    lines = []
    for role in provenance["roles"]:
        verb = "授予" if role["event"] == "role_granted" else "撤销"
        lines.append(f"{_local(role['at'])} 由 {role['by'] or '系统'} {verb}角色"
                     f"“{role['group'] or role['role']}”（安全审计日志 #{role['seq']}）")
    for credential in provenance["credentials"]:
        logged = (f"（安全审计日志 #{credential['enrolment_seq']}）"
                  if credential["enrolment_seq"] else "")
        revoked = f"，{_local(credential['revoked_at'])} 吊销" if credential["revoked_at"] else ""
        lines.append(f"{_local(credential['enrolled_at'])} 登记签名凭证“{credential['name']}”"
                     f"（密钥 {credential['key_id'][:16]}…）{logged}{revoked}")
    return sorted(lines)
