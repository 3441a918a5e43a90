"""The chained logs this app keeps — the publication register and the security audit log —
described once, so that checkpoints, verification and the commands serve both.

A chained log is three tables: its entries (``seq``, ``entry`` — exactly what is hashed —
and ``entry_hash``; each entry holds the ``prev_hash`` of the one before), its head row
(locked while appending) and its signed checkpoints. Every log's checkpoints are signed with
the one log key, each under its own origin (the C2SP key name), so a checkpoint of one log
never passes for the other's.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import models

from review.register.logkey import log_origin
from review.register.models import (
    Checkpoint,
    RegisterEntry,
    RegisterHead,
    SecurityCheckpoint,
    SecurityEvent,
    SecurityLogHead,
)


@dataclass(frozen=True, kw_only=True)
class ChainedLog:
    name: str  # "publication", "security": a key for code, never shown
    title: str  # the log's name as people read it: 发布登记, 安全审计日志
    noun: str  # one entry of it, in messages: 第 3 条登记
    entries: type[models.Model]
    head: type[models.Model]
    checkpoints: type[models.Model]
    # The entries' indexed columns (besides seq and entry_hash) that repeat a key of the
    # entry, so verification checks that nobody edited one without the other.
    mirrored_columns: tuple[str, ...] = ()
    # The column holding the entry's time (the entry's key of the same name, ISO 8601 UTC).
    time_column: str = ""

    def origin(self) -> str:
        """The checkpoint origin and log key name: a schema-less URL naming this log."""
        if self.name == PUBLICATION:
            return log_origin()
        return getattr(settings, f"REVIEW_{self.name.upper()}_LOG_ORIGIN", None) or \
            f"{log_origin().rsplit('/', 1)[0]}/{self.name}-log"

    def head_seq(self) -> int:
        head = self.head.objects.filter(pk=1).first()
        return head.seq if head is not None else 0

    def latest_checkpoint(self):
        return self.checkpoints.objects.order_by("-size", "-pk").first()


PUBLICATION, SECURITY = "publication", "security"

REGISTER = ChainedLog(name=PUBLICATION, title="发布登记", noun="登记", entries=RegisterEntry,
                      head=RegisterHead, checkpoints=Checkpoint, mirrored_columns=("kind",),
                      time_column="published_at")
SECURITY_LOG = ChainedLog(name=SECURITY, title="安全审计日志", noun="记录",
                          entries=SecurityEvent, head=SecurityLogHead,
                          checkpoints=SecurityCheckpoint,
                          mirrored_columns=("event", "outcome", "actor", "subject", "address"),
                          time_column="at")
