"""The audience guard: live content's readers change only as the leader signed.

Every way a page's view restrictions change — the admin's privacy dialog, the API, code —
saves or deletes a ``PageViewRestriction`` or changes its groups; these receivers see them all.
A change that lets anyone new read a page under it that is live (removing a restriction,
"public", another type, more groups) is refused: take the content down and submit it again,
and the new audience is signed with the new version. A change that lets fewer read takes every
live page under it down at once, as registered takedowns (reason ``限制访问``) the leaders are
told of; they go live again with the next approval, which signs the narrower audience. Moving
a page with live pages beneath to where other restrictions apply is refused the same way.
"""

from wagtail.models import Page, PageViewRestriction

from review.context import current_address, current_user
from review.exceptions import PublicationRefused
from review.pipeline import audience
from review.pipeline.audience import Rule
from review.register.security import record_security_event

RESTRICTED_REASON = "限制访问：页面访问范围已收窄，须按新的访问范围重新审批后发布"


def rule_of(restriction, *, groups=None) -> Rule | None:
    """The rule of one restriction (None: "public"), with ``groups`` (names) if given, else
    the groups stored for it."""
    kind = restriction.restriction_type
    if kind == PageViewRestriction.NONE:
        return None
    if kind == PageViewRestriction.GROUPS and groups is None:
        groups = (restriction.groups.values_list("name", flat=True) if restriction.pk else ())
    return Rule.of(kind=kind, groups=groups or ())


def stored_rules(page, *, without: int | None = None) -> dict[int, Rule]:
    """The stored restrictions that apply to ``page`` (its own and its ancestors'), by id."""
    rules = {}
    for restriction in page.get_view_restrictions().prefetch_related("groups"):
        if restriction.pk != without and (rule := rule_of(
                restriction, groups=[group.name for group in restriction.groups.all()])):
            rules[restriction.pk] = rule
    return rules


def audience_of(obj) -> list[dict] | None:
    """The described audience of a page (None for what is not a page in the tree)."""
    if not isinstance(obj, Page) or obj.pk is None or not obj.path:
        return None
    return audience.describe(stored_rules(obj).values())


def live_pages_under(page):
    return Page.objects.descendant_of(page, inclusive=True).filter(live=True)


def refusal(*, page, kind: str) -> str | None:
    """Why a change of ``kind`` (audience.change) to restrictions on ``page`` is refused."""
    if kind == audience.LOOSER and live_pages_under(page).exists():
        return (f"《{page.get_admin_display_title()}》或其下级页面正在公开：放宽访问范围须经审批。"
                "请先紧急撤稿，修改访问设置后重新提交审批。")
    return None


def decide(*, page, old: list[Rule], new: list[Rule], what: str) -> None:
    """Refuse a loosening of live content; take it down on a narrowing."""
    kind = audience.change(old=old, new=new)
    if reason := refusal(page=page, kind=kind):
        raise PublicationRefused(reason)
    live = list(live_pages_under(page).specific())
    if not live:
        return
    user = current_user()
    record_security_event(
        event="audience_changed", actor=user, address=current_address(),
        subject=f"page:{page.pk}",
        data={"change": what, "kind": kind, "before": audience.describe(old),
              "after": audience.describe(new), "live_pages": len(live)})
    if kind == audience.NARROWER:
        take_down(live, user=user)


def take_down(pages, *, user) -> None:
    from review.pipeline.actions import TakedownAction  # actions import the guard's modules

    for page in pages:
        # Narrowing who may read only lessens exposure: whoever may set the restriction
        # (Wagtail: may publish the page) takes it down, registered and announced.
        TakedownAction(page, user=user, reason=RESTRICTED_REASON).execute(
            skip_permission_checks=True)


def guard_restriction_save(sender, instance, raw=False, **kwargs):
    if raw:
        return
    stored = (PageViewRestriction.objects.filter(pk=instance.pk)
              .values_list("restriction_type", "password", "page_id").first()
              if instance.pk else None)
    if stored == (instance.restriction_type, instance.password, instance.page_id):
        return  # saved again unchanged (its groups change through guard_restriction_groups)
    if stored is not None and stored[2] != instance.page_id:
        # Moving a restriction to another page loosens the first: as a delete and a create.
        decide_delete(PageViewRestriction.objects.get(pk=instance.pk))
    page = Page.objects.get(pk=instance.page_id)
    before = stored_rules(page)
    after = dict(before)
    after.pop(instance.pk, None)
    if (rule := rule_of(instance)) is not None:
        after[instance.pk or 0] = rule
    decide(page=page, old=list(before.values()), new=list(after.values()), what="save")


def guard_restriction_delete(sender, instance, **kwargs):
    decide_delete(instance)


def decide_delete(instance) -> None:
    page = Page.objects.filter(pk=instance.page_id).first()
    if page is None:
        return
    before = stored_rules(page)
    after = stored_rules(page, without=instance.pk)
    decide(page=page, old=list(before.values()), new=list(after.values()), what="delete")


def guard_restriction_groups(sender, instance, action, reverse, model, pk_set, **kwargs):
    """Groups added to or removed from a ``groups`` restriction (either side of the m2m)."""
    if action not in ("pre_add", "pre_remove", "pre_clear"):
        return
    if reverse:  # group.pageviewrestriction_set.add(…): instance is the group
        restrictions = (PageViewRestriction.objects.filter(pk__in=pk_set) if pk_set is not None
                        else instance.pageviewrestriction_set.all())
        for restriction in restrictions:
            _groups_change(restriction, action=action, names={instance.name})
    else:
        names = set(model.objects.filter(pk__in=pk_set or ()).values_list("name", flat=True))
        _groups_change(instance, action=action, names=names)


def _groups_change(restriction, *, action: str, names: set[str]) -> None:
    if restriction.restriction_type != PageViewRestriction.GROUPS:
        return
    current = set(restriction.groups.values_list("name", flat=True))
    groups = (current | names if action == "pre_add" else set() if action == "pre_clear"
              else current - names)
    if groups == current:
        return
    page = Page.objects.get(pk=restriction.page_id)
    before = stored_rules(page)
    after = dict(before)
    after[restriction.pk] = Rule.of(kind=PageViewRestriction.GROUPS, groups=groups)
    decide(page=page, old=list(before.values()), new=list(after.values()), what="groups")


def guard_page_move(sender, instance, parent_page_before, parent_page_after, **kwargs):
    """A move changes what a page inherits: refused for live content when it would."""
    if parent_page_before.pk == parent_page_after.pk:
        return
    before = list(stored_rules(parent_page_before).values())
    after = list(stored_rules(parent_page_after).values())
    if audience.change(old=before, new=after) == audience.SAME:
        return
    if live_pages_under(instance).exists():
        raise PublicationRefused(
            f"《{instance.get_admin_display_title()}》或其下级页面正在公开，移到新位置会改变访问范围"
            "（页面隐私设置）：请先撤稿，移动后重新提交审批。")


def connect() -> None:
    from django.db.models.signals import m2m_changed, pre_delete, pre_save
    from wagtail.signals import pre_page_move

    pre_save.connect(guard_restriction_save, sender=PageViewRestriction,
                     dispatch_uid="review_audience_save")
    pre_delete.connect(guard_restriction_delete, sender=PageViewRestriction,
                       dispatch_uid="review_audience_delete")
    m2m_changed.connect(guard_restriction_groups, sender=PageViewRestriction.groups.through,
                        dispatch_uid="review_audience_groups")
    pre_page_move.connect(guard_page_move, dispatch_uid="review_audience_move")
