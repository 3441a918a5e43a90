"""Background work of static publishing (django-tasks): take ids, load, bake. Each task is
safe to run twice (it renders the current signed state and skips what is already current)."""

import logging

from django_tasks import task

from cms.baking.engine import bake_plan, pages_with_events_since, register_seq
from cms.baking.plan import plan_events

logger = logging.getLogger(__name__)


@task()
def bake_publication_events(page_ids: list[int], site_ids: list[int],
                            seq: int | None = None) -> dict:
    """Re-render what publication events of these pages (and these whole sites) affect.

    ``seq``: the register's seq when the events committed. The task then also takes in the
    page events committed since (a burst of approvals: the articles' own files come first,
    all of them, before any listing; cms.baking.plan orders them) and leaves every file that
    another task already rendered from a state at ``seq`` or later. The later events' own
    tasks still run and find their files current."""
    page_ids = set(page_ids)
    if seq is not None:
        page_ids.update(pages_with_events_since(seq=seq, until=register_seq()))
    try:
        report = bake_plan(plan=plan_events(page_ids=sorted(page_ids), site_ids=site_ids),
                           fresh_since=seq)
    except Exception:
        # The publication itself has committed; a failed bake is caught up by `manage.py bake`.
        logger.exception("静态化失败：页面 %s，网站 %s", sorted(page_ids), site_ids)
        raise
    return {"written": report.written, "unchanged": report.unchanged,
            "removed": report.removed}
