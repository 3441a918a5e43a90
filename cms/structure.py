"""Structural changes of a site go through the publishing workflow (regulation Art. 5–6).

A new column is a draft like any page, live only once approved. Removing or moving a live
column is asked for on the column itself (its 栏目变更 fields) and submitted; the change is
carried out when the leader's signed approval of that revision is published — the removal is
registered as takedowns naming that publication — and in no other way: moving a live column
directly is refused. What is approved is read from the column's live content (the revision
the leader signed), not from a flag set by the caller: a live column moves only to where its
live content asks to move it.
"""

from wagtail.actions.move_page import MovePageAction
from wagtail.models import Page

from cms.columns import StructuralChange
from cms.models import ColumnPage
from review.context import Refused
from review.pipeline.actions import TakedownAction
from review.register.entries import latest_entry_for


def approved_move_target_id(*, column_id: int) -> int | None:
    """Where the column's live content — what the leader signed — asks to move it, if it
    asks to be moved."""
    return (ColumnPage.objects.filter(pk=column_id, live=True,
                                      structural_change=StructuralChange.MOVE)
            .values_list("move_to_id", flat=True).first())


def refuse_direct_column_moves(sender, instance, parent_page_before, parent_page_after,
                               **kwargs):
    """``pre_page_move``, sent by every move (admin, API, ``Page.move``). Reordering among
    siblings is not a move; drafts move freely; a live column moves only where its approved
    move takes it (``apply_structural_change``)."""
    if not issubclass(sender, ColumnPage) or parent_page_before.pk == parent_page_after.pk:
        return
    if approved_move_target_id(column_id=instance.pk) == parent_page_after.pk:
        return
    if Page.objects.descendant_of(instance, inclusive=True).filter(live=True).exists():
        raise Refused("已公开的栏目不能直接移动：请在栏目的“栏目变更”中申请移动，"
                      "经初审和领导签名审批后生效。")


def apply_structural_change(sender, instance, revision=None, **kwargs):
    """``page_published``: carry out the removal or move the leader has just approved."""
    column = instance
    change = getattr(column, "structural_change", "")
    if change == StructuralChange.MOVE and column.move_to_id:
        if column.get_parent().pk != column.move_to_id:
            MovePageAction(column, column.move_to.specific, pos="last-child",
                           user=None).execute(skip_permission_checks=True)
    elif change == StructuralChange.REMOVE:
        publication = latest_entry_for(column)
        reason = f"经领导签名审批撤销栏目（发布登记第 {publication.seq} 条）"
        pages = (Page.objects.descendant_of(column, inclusive=True).live().specific()
                 .order_by("-depth", "path"))
        for page in pages:  # deepest first, so no live page is left under a dead one
            # The leader's signed approval of the removal is the authority here.
            TakedownAction(page, user=None, reason=reason,
                           authorised_by_seq=publication.seq).execute(skip_permission_checks=True)
