"""Wagtail page actions, as the project runs them (registered in wagtail_hooks.py)."""

from django.core.exceptions import ValidationError
from wagtail.actions.move_page import MovePageAction as WagtailMovePageAction


class MovePageAction(WagtailMovePageAction):
    """Wagtail's move, refusing a position beside the tree's root (which has no parent):
    Wagtail's own check then looked at the root's parent, None, and failed with a 500 (API v3
    ``move`` with ``{"destination_id": 1}`` and no position)."""

    def execute(self, skip_permission_checks=False):
        if self.pos not in ("first-child", "last-child", "sorted-child") and \
                self.target.is_root():
            raise ValidationError({"position": "根页面没有同级页面：移到它下面请用 position "
                                               "first-child 或 last-child。"})
        return super().execute(skip_permission_checks=skip_permission_checks)
