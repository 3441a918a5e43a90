"""Site records and external redirects are part of what readers get (issue 17, finding 5):
they change only through a ``SiteChange`` the bureau leader signed, registered like any
publication."""

import json

import pytest
from django.db import transaction
from django.urls import reverse
from wagtail.contrib.redirects.models import Redirect
from wagtail.models import APIToken, Site

from cms.publishing import publish_through_pipeline
from cms.sitechanges.models import SiteChange
from review.context import Refused
from review.register.entries import latest_entry_for
from review.register.models import SecurityEvent
from tests.shared import LEADER_PASSPHRASE


def site_form(site, **changes) -> dict:
    return {"hostname": site.hostname, "port": site.port, "site_name": site.site_name,
            "root_page": site.root_page_id, **changes}


def test_a_superuser_cannot_point_a_schools_host_at_another_school(client, network):
    site_a = network.school_a.site
    client.force_login(network.users["superuser"])
    client.post(reverse("wagtailsites:edit", args=[site_a.pk]),
                site_form(site_a, root_page=network.school_b.home_page.pk))
    assert Site.objects.get(pk=site_a.pk).root_page_id == network.school_a.home_page.pk


def test_the_sites_api_cannot_repoint_a_live_site(client, network):
    site_a = network.school_a.site
    _, token = APIToken.create_token(user=network.users["superuser"], name="t")
    response = client.put(f"/api/v3/sites/{site_a.pk}/", json.dumps({
        "hostname": "jia.test", "port": 80, "site_name": "甲中学",
        "root_page_id": network.school_b.home_page.pk, "is_default_site": False}),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code >= 400
    assert Site.objects.get(pk=site_a.pk).root_page_id == network.school_a.home_page.pk


def test_code_cannot_change_a_live_sites_host_or_delete_it(network):
    site = Site.objects.get(pk=network.school_a.site.pk)
    site.hostname = "evil.test"
    with pytest.raises(Refused), transaction.atomic():
        site.save()
    with pytest.raises(Refused), transaction.atomic():
        Site.objects.get(pk=site.pk).delete()
    with pytest.raises(Refused), transaction.atomic():  # a second host for live pages
        Site.objects.create(hostname="alias.test", root_page=network.school_a.home_page)
    assert Site.objects.get(pk=site.pk).hostname == "jia.test"


def test_external_redirects_need_the_bureau_leaders_signature(client, network):
    site_a = network.school_a.site
    client.force_login(network.users["superuser"])
    client.post(reverse("wagtailredirects:add"), {
        "old_path": "/zhaosheng/", "site": site_a.pk, "is_permanent": "on",
        "redirect_link": "https://casino.example.com/"})
    assert not Redirect.objects.filter(redirect_link__contains="casino").exists()
    # The attempt is in the security log, with who tried and why it was refused.
    attempt = SecurityEvent.objects.filter(event="action_refused").latest("seq")
    assert attempt.actor == network.users["superuser"].get_username()
    assert attempt.outcome == "failure" and "局领导签名审批" in attempt.entry["data"]["reason"]
    _, token = APIToken.create_token(user=network.users["superuser"], name="t")
    response = client.post("/api/v3/redirects/", json.dumps({
        "old_path": "/zhaosheng/", "site": site_a.pk,
        "redirect_link": "https://casino.example.com/"}), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code >= 400
    assert not Redirect.objects.filter(redirect_link__contains="casino").exists()
    # A school's own internal redirect stays with its administrators.
    news = network.column(network.school_a, "news")
    client.post(reverse("wagtailredirects:add"), {
        "old_path": "/old-news/", "site": site_a.pk, "is_permanent": "on",
        "redirect_page": news.pk})
    assert Redirect.objects.filter(old_path="/old-news", redirect_page=news).exists()
    client.post(reverse("wagtailredirects:add"), {
        "old_path": "/to-portal/", "site": site_a.pk, "is_permanent": "on",
        "redirect_link": "http://portal.test/"})
    assert Redirect.objects.filter(old_path="/to-portal").exists()


def _through_the_bureau(network, change: SiteChange) -> SiteChange:
    change.live = False  # a draft, as the admin saves it
    change.full_clean()
    change.save()
    change.save_revision(user=network.users["county_editor"])
    return publish_through_pipeline(
        change, submitter=network.users["county_editor"],
        reviewer=network.users["county_administrator"], leader=network.users["county_leader"],
        passphrase=LEADER_PASSPHRASE)


def test_a_signed_site_change_is_carried_out_and_registered(network):
    site_a = network.school_a.site
    change = _through_the_bureau(network, SiteChange(
        kind=SiteChange.Kind.SITE, site=site_a, hostname="www.jia.test",
        reason="学校启用新域名"))
    assert change.live
    assert Site.objects.get(pk=site_a.pk).hostname == "www.jia.test"
    entry = latest_entry_for(change)
    assert entry.kind == "publication"
    assert entry.entry["approval"]["approver"] == "county_leader"


def test_a_signed_external_redirect_is_carried_out(network):
    site_a = network.school_a.site
    _through_the_bureau(network, SiteChange(
        kind=SiteChange.Kind.REDIRECT, site=site_a, old_path="/bm/",
        redirect_link="https://zwfw.example.gov.cn/", reason="报名系统迁至政务服务网"))
    redirect = Redirect.objects.get(site=site_a, old_path="/bm")
    assert redirect.redirect_link == "https://zwfw.example.gov.cn/"
    # Another target for the same path is not what was signed.
    redirect.redirect_link = "https://casino.example.com/"
    with pytest.raises(Refused), transaction.atomic():
        redirect.save()


def test_what_counts_as_external():
    from cms.sitechanges.models import is_external

    hosts = frozenset({"jia.test", "portal.test"})
    assert is_external("https://casino.example.com/", internal_hosts=hosts)
    assert is_external("//casino.example.com/x", internal_hosts=hosts)
    assert is_external("javascript:alert(1)", internal_hosts=hosts)
    assert not is_external("http://JIA.test/news/", internal_hosts=hosts)
    assert not is_external("/news/", internal_hosts=hosts)


def test_internal_redirects_are_registered_in_the_security_log(client, network):
    """A school's administrator sets its own internal redirects without approval; each one
    set or deleted, through the admin or by code, is in the chained security log."""
    site_a = network.school_a.site
    news = network.column(network.school_a, "news")
    client.force_login(network.users["superuser"])
    client.post(reverse("wagtailredirects:add"), {
        "old_path": "/old-news/", "site": site_a.pk, "is_permanent": "on",
        "redirect_page": news.pk})
    redirect = Redirect.objects.get(old_path="/old-news")
    saved = SecurityEvent.objects.get(event="redirect_saved", subject=f"redirect:{redirect.pk}")
    assert saved.actor == network.users["superuser"].get_username()
    assert saved.entry["data"]["old_path"] == "/old-news"
    assert saved.entry["data"]["target"] == news.url

    Redirect.objects.filter(pk=redirect.pk).get().delete()
    deleted = SecurityEvent.objects.get(event="redirect_deleted",
                                        subject=f"redirect:{redirect.pk}")
    assert deleted.actor.startswith("系统账户") and deleted.seq > saved.seq
