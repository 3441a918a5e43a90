"""The content screener's interface. The screening issue supplies the real screener; until
then ``pass_everything`` is configured and every submission passes.

A screener is a callable ``(obj) -> list[dict]`` returning findings shaped like the ``scan``
command's: ``{kind, severity (block|review|warn), category, rule, start, end, match, context}``.
Settings name it: ``REVIEW_SCREENER = "dotted.path"``.
"""

from django.conf import settings
from django.utils.module_loading import import_string

BLOCK = "block"


def pass_everything(obj) -> list[dict]:
    return []


def screen(obj) -> list[dict]:
    path = getattr(settings, "REVIEW_SCREENER", "review.screening.pass_everything")
    screener = import_string(path)
    return list(screener(obj))


def blocking(findings: list[dict]) -> list[dict]:
    return [finding for finding in findings if finding.get("severity") == BLOCK]
