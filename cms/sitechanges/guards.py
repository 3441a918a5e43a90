"""The site records and external redirects readers are sent by change only as a published
(signed) ``SiteChange`` asks: what is allowed is read from the live change — what the bureau
leader signed — not from a flag the caller sets, as live columns move only where their live
content asks (cms.structure). Every path that saves a Site or a Redirect passes here (admin,
API, code); a refusal says why."""

from wagtail.contrib.redirects.models import Redirect
from wagtail.models import Site

from cms.sitechanges.models import SiteChange, is_external, network_hosts
from review.context import Refused, current_address, current_user
from review.register.entries import latest_entry_for
from review.register.models import RegisterEntry
from review.register.security import command_actor, record_security_event

SITE_FIELDS = ("hostname", "port", "root_page_id")


def _signed(changes) -> bool:
    """Some change of ``changes`` is live with a publication in the register."""
    for change in changes.filter(live=True):
        entry = latest_entry_for(change)
        if entry is not None and entry.kind == RegisterEntry.Kind.PUBLICATION:
            return True
    return False


def _root_is_live(root_page_id) -> bool:
    """The page is live through a signed publication (Wagtail's stock welcome page, live
    since installation with no publication, is not what readers of the network get)."""
    from wagtail.models import Page

    page = Page.objects.filter(pk=root_page_id, live=True).first()
    return page is not None and latest_entry_for(page) is not None


def approved_site_values(*, site: Site, before: dict) -> set[tuple]:
    """The (hostname, port, root_page_id) the live, signed changes of ``site`` ask for."""
    values = set()
    for change in SiteChange.objects.filter(site=site, kind=SiteChange.Kind.SITE, live=True):
        if _signed(SiteChange.objects.filter(pk=change.pk)):
            values.add((change.hostname or before["hostname"], change.port or before["port"],
                        change.root_page_id or before["root_page_id"]))
    return values


def refuse_unapproved_site_save(sender, instance, *, raw=False, **kwargs) -> None:
    """``pre_save`` on Site."""
    if raw:
        return
    if instance._state.adding or instance.pk is None:
        # Provisioning makes a new school's site over a draft home page (cms.organisations);
        # a new host serving live pages is a change of what readers get.
        if _root_is_live(instance.root_page_id):
            raise Refused("不能为已发布的网站新增站点记录（域名）：请提交“站点与跳转变更”，"
                          "经局领导签名审批后生效。")
        return
    before = Site.objects.filter(pk=instance.pk).values(*SITE_FIELDS).first()
    after = {field: getattr(instance, field) for field in SITE_FIELDS}
    if before is None or before == after:
        return
    if not (_root_is_live(before["root_page_id"]) or _root_is_live(after["root_page_id"])):
        return  # a site nobody reads yet
    wanted = (after["hostname"], after["port"], after["root_page_id"])
    if wanted not in approved_site_values(site=instance, before=before):
        raise Refused("站点的域名、端口和首页只能经“站点与跳转变更”由局领导签名审批后修改。")


def refuse_unapproved_site_delete(sender, instance, **kwargs) -> None:
    """``pre_delete`` on Site."""
    if _root_is_live(instance.root_page_id):
        raise Refused("不能删除正在公开的网站的站点记录。")


def refuse_unapproved_external_redirect(sender, instance, *, raw=False, **kwargs) -> None:
    """``pre_save`` on Redirect: a school's own internal redirects stay with its
    administrators (the security log records them); one that sends readers to another host is
    a change of what they get, signed by the bureau leader."""
    if raw or not is_external(instance.redirect_link, internal_hosts=network_hosts()):
        return
    changes = SiteChange.objects.filter(
        kind=SiteChange.Kind.REDIRECT, site_id=instance.site_id,
        old_path=instance.old_path, redirect_link=instance.redirect_link)
    if instance.site_id is None or not _signed(changes):
        raise Refused("跳转到外部网站须提交“站点与跳转变更”，经局领导签名审批后生效。")


def _describe_redirect(redirect) -> dict:
    target = redirect.redirect_link or (redirect.redirect_page.url if redirect.redirect_page
                                        else "")
    return {"site": redirect.site.hostname if redirect.site_id else "（所有站点）",
            "old_path": redirect.old_path, "target": target,
            "permanent": redirect.is_permanent}


def register_redirect_saved(sender, instance, *, raw=False, **kwargs) -> None:
    """``post_save`` on Redirect: every redirect set (a school's own internal ones, which
    need no approval, included) goes into the security log, chained, with who set it —
    whatever the path: the admin, the API or code."""
    if raw:
        return
    record_security_event(event="redirect_saved", actor=current_user(),
                          actor_name=command_actor(), address=current_address(),
                          subject=f"redirect:{instance.pk}", data=_describe_redirect(instance))


def register_redirect_deleted(sender, instance, **kwargs) -> None:
    """``post_delete`` on Redirect."""
    record_security_event(event="redirect_deleted", actor=current_user(),
                          actor_name=command_actor(), address=current_address(),
                          subject=f"redirect:{instance.pk}", data=_describe_redirect(instance))


def apply_approved_change(sender, instance, **kwargs) -> None:
    """``published`` on SiteChange: carry out what the leader has just signed."""
    change = instance
    if change.kind == SiteChange.Kind.SITE:
        site = Site.objects.get(pk=change.site_id)
        site.hostname = change.hostname or site.hostname
        site.port = change.port or site.port
        site.root_page_id = change.root_page_id or site.root_page_id
        site.save()
    else:
        Redirect.objects.update_or_create(
            site_id=change.site_id, old_path=change.old_path,
            defaults={"redirect_link": change.redirect_link, "redirect_page": None,
                      "is_permanent": False})
