"""Background work of static publishing (django-tasks): take ids, load, bake."""

import logging

from django_tasks import task

from cms.baking.engine import bake_plan
from cms.baking.plan import plan_events

logger = logging.getLogger(__name__)


@task()
def bake_publication_events(page_ids: list[int], site_ids: list[int]) -> dict:
    """Re-render what publication events of these pages (and these whole sites) affect."""
    try:
        report = bake_plan(plan=plan_events(page_ids=page_ids, site_ids=site_ids))
    except Exception:
        # The publication itself has committed; a failed bake is caught up by `manage.py bake`.
        logger.exception("静态化失败：页面 %s，网站 %s", page_ids, site_ids)
        raise
    return {"written": report.written, "unchanged": report.unchanged,
            "removed": report.removed}
