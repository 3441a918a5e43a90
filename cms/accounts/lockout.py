"""Login lockout (等保 8.1.4.1), on django-axes: who is locked out now, what the person at
the login page is told, and the account administrators' early unlock.

Axes counts failed logins per account and per address (``AXES_LOCKOUT_PARAMETERS``) in its
``AccessAttempt`` rows (one per username, address and browser); a name or an address is
locked while its failures within the cool-off add up to the limit. ``current_lockouts``
works that out from the rows, without the database.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from axes.utils import reset
from django.db.models import Q
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from review.register.security import client_address, record_security_event

USERNAME = "username"
ADDRESS = "ip_address"
KINDS = {USERNAME: "账号", ADDRESS: "登录地址"}


@dataclass(frozen=True)
class Lockout:
    kind: str  # USERNAME or ADDRESS
    value: str
    failures: int  # within the cool-off
    last_attempt: datetime
    until: datetime

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def subject(self) -> str:
        return f"{'user' if self.kind == USERNAME else 'address'}:{self.value}"


def current_lockouts(*, attempts: Iterable, limit: int, cool_off: timedelta,
                     now: datetime) -> list[Lockout]:
    """The names and addresses locked at ``now``: those whose attempts within the cool-off
    (``attempt_time`` at or after ``now - cool_off``, as axes counts them) add up to
    ``limit``. A lock lasts until the attempt that brought the newest ones to the limit
    leaves the window. ``attempts`` are axes' rows or anything with ``username``,
    ``ip_address``, ``failures_since_start`` and ``attempt_time``."""
    groups: dict[tuple[str, str], list] = {}
    for attempt in attempts:
        if attempt.attempt_time < now - cool_off:
            continue
        for kind in (USERNAME, ADDRESS):
            value = getattr(attempt, kind)
            if value:
                groups.setdefault((kind, value), []).append(attempt)
    lockouts = []
    for (kind, value), rows in groups.items():
        rows.sort(key=lambda row: row.attempt_time, reverse=True)
        total = 0
        for row in rows:
            total += row.failures_since_start
            if total >= limit:
                lockouts.append(Lockout(
                    kind=kind, value=value,
                    failures=sum(r.failures_since_start for r in rows),
                    last_attempt=rows[0].attempt_time, until=row.attempt_time + cool_off))
                break
    return sorted(lockouts, key=lambda lockout: lockout.last_attempt, reverse=True)


def lockout_message(lockouts: Iterable[Lockout], *, cool_off: timedelta) -> str:
    """What the person at the login page is told: which of their name and address is locked,
    for how long, until when, and whom to ask."""
    lockouts = list(lockouts)
    minutes = int(cool_off.total_seconds() // 60)
    if not lockouts:
        return f"登录失败次数过多，已锁定 {minutes} 分钟；如需提前解锁，请联系账号管理员。"
    kinds = {lockout.kind for lockout in lockouts}
    what = "和".join(KINDS[kind] for kind in (USERNAME, ADDRESS) if kind in kinds)
    until = timezone.localtime(max(lockout.until for lockout in lockouts))
    return (f"登录失败次数过多，{what}已锁定 {minutes} 分钟（至 {until:%H:%M}）；"
            "如需提前解锁，请联系账号管理员。")


# --- Database and request glue --------------------------------------------------------------

def client_ip(request) -> str | None:
    """``AXES_CLIENT_IP_CALLABLE``: axes counts addresses as the security log names them."""
    return client_address(request) or None


def cool_off() -> timedelta:
    return get_cool_off()


def lockouts_now(*, username: str | None = None, address: str | None = None) -> list[Lockout]:
    """Current lockouts: all of them, or those of this name and this address."""
    now = timezone.now()
    attempts = AccessAttempt.objects.filter(attempt_time__gte=now - cool_off())
    wanted = None
    if username is not None or address is not None:
        attempts = attempts.filter(Q(username=username) | Q(ip_address=address or None))
        wanted = {(USERNAME, username), (ADDRESS, address)}
    found = current_lockouts(attempts=attempts, limit=get_failure_limit(None, None),
                             cool_off=cool_off(), now=now)
    return [lockout for lockout in found
            if wanted is None or (lockout.kind, lockout.value) in wanted]


def lockouts_of_request(request, credentials=None) -> list[Lockout]:
    return lockouts_now(username=get_client_username(request, credentials),
                        address=client_address(request))


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the page the person was on (the admin's login form) with
    the lockout message in place of "wrong password", answered 429; a plain Chinese message
    where there is no form to show it on."""
    message = lockout_message(lockouts_of_request(request, credentials), cool_off=cool_off())
    context = getattr(original_response, "context_data", None) or {}
    form = context.get("form")
    if isinstance(original_response, TemplateResponse) and form is not None:
        form.errors.clear()
        form.add_error(None, message)
        response = TemplateResponse(request, original_response.template_name, context,
                                    status=429)
        return response.render()
    return HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")


def record_lockout(*, request, username: str | None) -> None:
    """The ``lockout`` event, when a failure has just locked a name or an address."""
    address = client_address(request)
    found = lockouts_now(username=username, address=address)
    record_security_event(
        event="lockout", actor_name=username or "",
        subject=found[0].subject if found else f"user:{username or ''}", address=address,
        data={"locked": [lockout.subject for lockout in found],
              "failures": getattr(request, "axes_failures_since_start", None),
              "minutes": int(cool_off().total_seconds() // 60)})


class NotLocked(Exception):
    """The name or address is not locked (any more)."""


def unlock(*, kind: str, value: str, by, address: str) -> int:
    """Lift a current lockout before its cool-off ends (an account administrator's act;
    ``by`` None: a maintainer's, from the shell), and record it. Returns the number of axes'
    attempt rows cleared."""
    if kind not in KINDS or not value:
        raise NotLocked
    found = lockouts_now(username=value) if kind == USERNAME else lockouts_now(address=value)
    lockout = next((lockout for lockout in found if lockout.kind == kind), None)
    if lockout is None:
        raise NotLocked
    cleared = reset(username=value) if kind == USERNAME else reset(ip=value)
    record_security_event(event="unlock", actor=by, actor_name="" if by else "manage.py",
                          subject=lockout.subject, address=address,
                          data={"failures": lockout.failures, "cleared": cleared,
                                "until": lockout.until.isoformat()})
    return cleared
