"""The compliance engine's exceptions: one tree under ``ReviewError``.

Every exception the engine raises on purpose derives from ``ReviewError``, so a caller can
catch the engine's refusals and bad-input errors in one place; each is also importable from
the module that raises it (``review.pipeline.approvals.ApprovalError``, …).

``ReviewError``
    ``Refused`` (also Django's ``PermissionDenied``): an action is not allowed; the person
    sees the reason. Raised by the workflow tasks (``review.pipeline.tasks``: reviewing one's
    own submission, rejecting without a comment, passing blocked content) and by cms code.
    Its reason is announced with the ``refused`` signal, which the request context
    (``review.context``) keeps for the admin message and the rollback.

        ``PublicationRefused``: content would go live without a valid signed approval, or a
        live object would be changed or deleted behind the pipeline's back
        (``review.pipeline.guard``).

        ``SignatureRefused``: the leader's signature could not be made or did not verify
        (``review.pipeline.workflow``).

        ``FileInUse``: a document or image that live content's signed approval names would
        be deleted (``review.pipeline.files``); ``uses`` lists that content.

    ``CannotMask``: a personal number cannot be masked (the screener did not find it, or the
    content is locked in review) (``review.pipeline.actions``).

    ``ApprovalError``: an approval or a signing credential cannot be given or does not hold
    (``review.pipeline.approvals``, ``review.pipeline.passkeys``, ``review.pipeline.workflow``).

    ``PassphraseError`` (also ``ValueError``): a passphrase is too short or does not open the
    sealed key (``review.keys``).

    ``AppendOnlyError``: a register entry or checkpoint would be changed or removed
    (``review.register.models``).

    ``CannotRestore``: ``check-live --restore`` cannot put back what readers should get;
    the message says what a person must do (``review.register.filecheck``,
    ``review.register.livecheck``).

    ``ExportError``: an audit bundle cannot be written as asked (``review.register.export``).

    ``HealthError``: bad input to site health's commands or views, such as an unknown site
    (``review.health``).

    ``ExtractionError``: an attachment cannot be read safely and completely
    (``review.screening.extract``).

    ``TermError`` (also ``ValueError``): a lexicon term cannot be matched sensibly
    (``review.screening.matching``; a model validator turns it into a ``ValidationError``).

    ``LexiconFileError`` (also ``ValueError``): a lexicon CSV file has bad rows; ``errors``
    lists them (``review.screening.lexicon_io``).

Outside the tree on purpose: ``review.register.signednote.NoteError`` (a ``ValueError``),
because signednote.py is standard library only and is copied into every audit bundle.
"""

from django.core.exceptions import PermissionDenied
from django.dispatch import Signal

# Sent with ``reason`` (heading and reason, as the person reads it) whenever a ``Refused`` is
# made; review.context listens, so that this module stays below it.
refused = Signal()


class ReviewError(Exception):
    """The base of every exception the compliance engine raises on purpose."""


class Refused(ReviewError, PermissionDenied):
    """A refusal whose reason the person sees: Wagtail's admin turns PermissionDenied into a
    bare "no permission" redirect, so the reason is also queued as an admin message."""

    heading = "操作被拒绝"

    def __init__(self, reason: str):
        super().__init__(reason)
        refused.send(sender=type(self), reason=f"{self.heading}：{reason}")


class PublicationRefused(Refused):
    """Refused: this would put content online without the leader's signed approval."""

    heading = "发布被拒绝"


class SignatureRefused(Refused):
    """The leader's signature could not be made or did not verify; nothing was approved."""

    heading = "签名未通过"


class FileInUse(Refused):
    """Refused: live content uses this file (its signed approval names it); ``uses`` lists
    that content (``review.pipeline.files.LiveUse``)."""

    heading = "删除被拒绝"

    def __init__(self, reason: str, *, uses: list):
        super().__init__(reason)
        self.uses = uses


class CannotMask(ReviewError):
    """A personal number cannot be masked now; the message says why."""


class ApprovalError(ReviewError):
    """The approval cannot be given or does not hold; nothing was changed."""


class PassphraseError(ReviewError, ValueError):
    """The passphrase is too short, or does not open the key."""


class AppendOnlyError(ReviewError):
    """Register entries and checkpoints are never changed or removed."""


class CannotRestore(ReviewError):
    """check-live --restore cannot repair this; the message says what a person must do."""


class ExportError(ReviewError):
    """The bundle cannot be written as asked; nothing was written."""


class ExtractionError(ReviewError):
    """The attachment cannot be read safely and completely; the message names the file and
    is meant for the person who uploaded it."""


class TermError(ReviewError, ValueError):
    """A lexicon term that cannot be matched sensibly."""


class LexiconFileError(ReviewError, ValueError):
    """A lexicon file with bad rows; ``errors`` lists them, one message a row."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


class HealthError(ReviewError):
    """Bad input to the site-health commands or views: an unknown site, an unknown format
    (review.health)."""
