"""Nobody publishes alone (invariant 6): the attacks a school's own administrator (and a
maintainer) tried through account management, and what refuses each of them."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from wagtail.models import APIToken

from cms.accounts.users import conflicting_roles
from cms.models import Role
from cms.publishing import submit
from review.models import SecurityEvent, SigningCredential
from tests.conftest import make_article
from tests.shared import PASSWORD, reauthenticate, totp_device

User = get_user_model()


def login(client, user):
    client.force_login(user)
    return client


def new_account(**extra) -> dict:
    return {"username": "puppet", "email": "puppet@example.cn", "first_name": "傀",
            "last_name": "儡", "password1": "Kettle-Lantern-2026",
            "password2": "Kettle-Lantern-2026", **extra}


# Finding 1: account takeover through Wagtail's user copy view.

@pytest.mark.parametrize("actor", ["a_administrator", "superuser"])
def test_the_user_copy_view_is_gone(client, network, actor):
    login(client, network.users[actor])
    for target in ("superuser", "b_teacher", "a_teacher"):
        original = network.users[target]
        url = f"/admin/users/copy/{original.pk}/"
        assert client.get(url).status_code == 404
        response = client.post(url, {**new_account(username="taken_over"), "is_superuser": "on",
                                     "groups": [network.school_b.groups["leader"].pk]})
        assert response.status_code == 404
        again = User.objects.get(pk=original.pk)
        assert again.username == original.username
        assert again.is_superuser == original.is_superuser
    assert not User.objects.filter(username="taken_over").exists()


# Finding 2: one administrator makes a puppet administrator and a puppet leader.

@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.LEADER])
def test_a_school_administrator_cannot_make_administrators_or_leaders(client, network, role):
    login(client, network.users["a_administrator"])
    response = client.post(reverse("wagtailusers_users:add"),
                           new_account(groups=[network.school_a.groups[role].pk]))
    assert response.status_code == 200  # the form answers: not a valid choice
    assert not User.objects.filter(username="puppet").exists()
    form = client.get(reverse("wagtailusers_users:add")).context["form"]
    assert list(form.fields["groups"].queryset) == [network.school_a.groups[Role.TEACHER]]


def test_a_school_administrator_cannot_reach_the_leader_or_a_fellow_administrator(
        client, network):
    login(client, network.users["a_administrator"])
    for target in ("a_leader", "a_editor", "county_accounts"):
        user = network.users[target]
        edit = reverse("wagtailusers_users:edit", args=[user.pk])
        assert client.get(edit).status_code == 404
        response = client.post(edit, {"username": target, "password1": "Hijack-Passw0rd-26",
                                      "password2": "Hijack-Passw0rd-26", "is_active": "on"})
        assert response.status_code == 404
        assert User.objects.get(pk=user.pk).check_password(PASSWORD)
    listing = client.get(reverse("wagtailusers_users:index")).content.decode()
    assert "a_teacher" in listing and "a_leader" not in listing and "a_editor" not in listing


def test_the_account_administrator_makes_leaders_and_it_is_in_the_security_log(client, network):
    accounts = network.users["county_accounts"]
    login(client, accounts)
    response = client.post(reverse("wagtailusers_users:add"),
                           new_account(groups=[network.school_a.groups[Role.LEADER].pk]))
    assert response.status_code == 302, response.content.decode()[:3000]
    puppet = User.objects.get(username="puppet")
    assert list(puppet.groups.all()) == [network.school_a.groups[Role.LEADER]]
    events = {e.event: e for e in SecurityEvent.objects.filter(subject="user:puppet")}
    assert events["account_created"].actor == "county_accounts"
    granted = events["role_granted"]
    assert granted.actor == "county_accounts"
    assert granted.entry["data"]["role"] == Role.LEADER


def test_superuser_flag_role_revocation_and_deletion_are_in_the_security_log(network):
    """Maintainers' account changes are audited like everyone's, from any path (here a
    script: no request, so the actor is the system)."""
    user = User.objects.create_user(username="audited", password="Audited-pass-2026")
    teachers = network.school_a.groups[Role.TEACHER]
    user.groups.add(teachers)
    user.is_superuser = True
    user.save()
    user.is_superuser = False
    user.save()
    user.groups.remove(teachers)
    user.delete()
    events = [(e.event, e.entry["data"].get("role", ""))
              for e in SecurityEvent.objects.filter(subject="user:audited").order_by("seq")]
    assert events == [("account_created", ""), ("role_granted", Role.TEACHER),
                      ("role_granted", "superuser"), ("role_revoked", "superuser"),
                      ("role_revoked", Role.TEACHER), ("account_deleted", "")]


def test_nobody_grants_themselves_anything(client, network):
    accounts = network.users["county_accounts"]
    login(client, accounts)
    assert client.get(reverse("wagtailusers_users:edit", args=[accounts.pk])).status_code == 404
    url = reverse("wagtail_bulk_action", args=["auth", "user", "assign_role"])
    client.post(f"{url}?id={accounts.pk}", {"role": network.school_a.groups[Role.LEADER].pk})
    assert list(accounts.groups.all()) == [network.portal.groups[Role.ACCOUNTS]]
    root = network.users["superuser"]
    login(client, root)
    assert client.get(reverse("wagtailusers_users:edit", args=[root.pk])).status_code == 404


def test_a_maintainer_appoints_account_administrators_but_grants_no_content_role(client,
                                                                                network):
    login(client, network.users["superuser"])
    form = client.get(reverse("wagtailusers_users:add")).context["form"]
    assert list(form.fields["groups"].queryset) == [network.portal.groups[Role.ACCOUNTS]]
    response = client.post(reverse("wagtailusers_users:add"),
                           new_account(groups=[network.school_a.groups[Role.LEADER].pk]))
    assert response.status_code == 200
    assert not User.objects.filter(username="puppet").exists()


def test_account_administrators_hold_no_content_role(client, network):
    assert conflicting_roles({Role.ACCOUNTS, Role.LEADER})
    assert conflicting_roles({Role.ADMINISTRATOR, Role.LEADER}) is None
    # A maintainer cannot make a leader an account administrator too.
    leader = network.users["a_leader"]
    login(client, network.users["superuser"])
    response = client.post(reverse("wagtailusers_users:edit", args=[leader.pk]), {
        "username": "a_leader", "email": "leader@example.cn", "first_name": "甲",
        "last_name": "领导", "is_active": "on",
        "groups": [network.portal.groups[Role.ACCOUNTS].pk]})
    assert response.status_code == 200
    assert "账号管理员不能同时担任" in response.content.decode()
    assert list(leader.groups.all()) == [network.school_a.groups[Role.LEADER]]


# Finding 2, variant: a leader's password set by someone else.

def test_a_leaders_password_reset_by_someone_else_revokes_the_signing_keys(client, network):
    leader = network.users["a_leader"]
    assert leader.signing_credentials.filter(revoked_at=None).exists()
    login(client, network.users["county_accounts"])
    response = client.post(reverse("wagtailusers_users:edit", args=[leader.pk]), {
        "username": "a_leader", "email": "leader@example.cn", "first_name": "甲",
        "last_name": "领导", "password1": "Reset-Passw0rd-2026",
        "password2": "Reset-Passw0rd-2026",
        "is_active": "on", "groups": [network.school_a.groups[Role.LEADER].pk]})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not leader.signing_credentials.filter(revoked_at=None).exists()
    revoked = SecurityEvent.objects.get(event="credential_revoked", subject="user:a_leader")
    assert revoked.actor == "county_accounts"
    assert revoked.entry["data"]["reason"] == "password_reset_by_other"


def test_a_leader_changing_their_own_password_keeps_the_keys(client, network):
    leader = network.users["a_leader"]
    login(client, leader)
    response = client.post(reverse("wagtailadmin_account"), {
        "name_email-first_name": "甲", "name_email-last_name": "领导",
        "name_email-email": "leader@example.cn", "locale-preferred_language": "zh-hans",
        "locale-current_time_zone": "Asia/Shanghai", "theme-theme": "system",
        "theme-density": "default", "theme-contrast": "system",
        "password-old_password": PASSWORD, "password-new_password1": "Own-New-Passw0rd-26",
        "password-new_password2": "Own-New-Passw0rd-26"})
    assert User.objects.get(pk=leader.pk).check_password("Own-New-Passw0rd-26"), \
        response.content.decode()[:2000]
    assert leader.signing_credentials.filter(revoked_at=None).exists()


def test_a_password_set_from_a_script_revokes_the_keys_too(network):
    leader = User.objects.get(username="b_leader")
    leader.set_password("Script-Passw0rd-2026")
    leader.save()
    assert not leader.signing_credentials.filter(revoked_at=None).exists()


# Enrolling a signing credential needs a fresh login with the second factor.

def test_enrolling_a_key_needs_the_password_and_a_current_code(client, network):
    leader = network.users["a_leader"]
    login(client, leader)
    before = SigningCredential.objects.filter(user=leader).count()
    response = client.post(reverse("review_credentials"), {
        "passphrase": "puppet-passphrase-26", "confirm": "puppet-passphrase-26"})
    assert response.status_code == 302
    assert reverse("accounts_reauthenticate") in response["Location"]
    assert SigningCredential.objects.filter(user=leader).count() == before
    assert client.post(reverse("review_passkey_options")).status_code == 403
    # A wrong code is refused and logged.
    totp_device(leader)
    response = client.post(reverse("accounts_reauthenticate"),
                           {"password": PASSWORD, "code": "000000"})
    assert response.status_code == 200 and "不正确" in response.content.decode()
    assert SecurityEvent.objects.filter(event="reauthenticated", outcome="failure",
                                        actor="a_leader").exists()


def test_an_enrolment_is_announced_and_logged(client, network,
                                              django_capture_on_commit_callbacks):
    leader = network.users["a_leader"]
    leader.email = "leader@example.cn"
    leader.save(update_fields=["email"])
    accounts = network.users["county_accounts"]
    accounts.email = "accounts@example.cn"
    accounts.save(update_fields=["email"])
    reauthenticate(client, leader)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("review_credentials"), {
            "name": "新电脑", "passphrase": "a-fresh-passphrase-26",
            "confirm": "a-fresh-passphrase-26"})
    assert response.status_code == 302
    credential = SigningCredential.objects.filter(user=leader).latest("created_at")
    assert credential.name == "新电脑"
    event = SecurityEvent.objects.get(event="credential_enrolled", subject="user:a_leader")
    assert event.entry["data"]["key_id"] == credential.key_id
    assert [m.to for m in mail.outbox] == [["accounts@example.cn", "leader@example.cn"]]
    assert "如非本人操作" in mail.outbox[0].body


# API tokens are their owner's identity.

def test_nobody_makes_an_api_token_for_someone_else(client, network):
    login(client, network.users["superuser"])
    leader = network.users["a_leader"]
    response = client.post(reverse("wagtailusers_api_tokens:add"),
                           {"name": "傀儡", "user": leader.pk})
    assert response.status_code in (302, 403)  # the admin turns a refusal into a redirect
    assert not APIToken.objects.filter(user=leader).exists()


# Finding 4: cross-school leaks in reports, choosers and user usage.

@pytest.fixture
def b_pending(network):
    teacher = network.users["b_teacher"]
    article = make_article(network.column(network.school_b, "teaching"), "乙校待审草稿标题",
                           live=False, owner=teacher)
    submit(article, user=teacher)
    return article


@pytest.mark.parametrize("report", ["workflow", "workflow_tasks"])
def test_workflow_reports_show_only_own_schools_rows(client, network, b_pending, report):
    login(client, network.users["a_administrator"])
    page = client.get(reverse(f"wagtailadmin_reports:{report}")).content.decode()
    assert "乙校待审草稿标题" not in page
    assert "b_teacher" not in page and "乙中学" not in page
    login(client, network.users["b_administrator"])
    assert "乙校待审草稿标题" in client.get(
        reverse(f"wagtailadmin_reports:{report}")).content.decode()


def test_site_history_and_page_types_are_for_maintainers_and_account_administrators(
        client, network):
    login(client, network.users["a_administrator"])
    assert client.get(reverse("wagtailadmin_reports:site_history")).status_code in (302, 403)
    assert client.get(reverse("wagtailadmin_reports:page_types_usage")).status_code in (302,
                                                                                        403)
    login(client, network.users["county_accounts"])
    assert client.get(reverse("wagtailadmin_reports:site_history")).status_code == 200


def test_the_page_chooser_hides_another_schools_drafts(client, network, b_pending):
    login(client, network.users["a_administrator"])
    home_b = network.school_b.home_page
    column = network.column(network.school_b, "teaching")
    page = client.get(reverse("wagtailadmin_choose_page_child", args=[column.pk])).json()
    assert "乙校待审草稿标题" not in page["html"]
    listing = client.get(reverse("wagtailadmin_choose_page_child", args=[home_b.pk])).json()
    assert column.title in listing["html"]  # live pages stay linkable
    search = client.get(reverse("wagtailadmin_choose_page_search"), {"q": "乙校待审草稿"})
    assert "乙校待审草稿标题" not in search.content.decode()
    login(client, network.users["b_administrator"])
    page = client.get(reverse("wagtailadmin_choose_page_child", args=[column.pk])).json()
    assert "乙校待审草稿标题" in page["html"]


def test_user_usage_of_another_school_is_out_of_reach(client, network):
    login(client, network.users["a_administrator"])
    url = reverse("wagtailusers_users:usage", args=[network.users["b_teacher"].pk])
    assert client.get(url).status_code == 404


# Where a signer's authority comes from, for the auditor.

def test_the_register_form_and_the_bundle_show_who_granted_the_signers_role(client, network,
                                                                           tmp_path):
    import json

    from django.core.management import call_command

    from review.models import RegisterEntry

    entry = RegisterEntry.objects.filter(entry__approval__approver="a_leader").latest("seq")
    login(client, network.users["superuser"])
    page = client.get(reverse("review_register_form", args=[entry.seq])).content.decode()
    assert "签名人授权来历" in page
    assert "授予角色“甲中学 领导”" in page
    call_command("publication_log", "export", "--out", str(tmp_path / "bundle"),
                 stdout=__import__("io").StringIO())
    signers = {s["username"]: s for s in
               json.loads((tmp_path / "bundle" / "signers.json").read_text())}
    granted = signers["a_leader"]["roles"][0]
    assert granted["event"] == "role_granted" and granted["group"] == "甲中学 领导"
    assert SecurityEvent.objects.get(seq=granted["seq"]).subject == "user:a_leader"
    assert signers["a_leader"]["credentials"][0]["key_id"]


# Every user, group and report view: confined or refused.

@pytest.mark.parametrize("url_name", ["wagtailusers_groups:index", "wagtailusers_groups:add",
                                      "wagtailusers_api_tokens:index"])
@pytest.mark.parametrize("actor", ["a_administrator", "county_accounts", "a_leader"])
def test_group_and_token_management_is_refused_to_staff(client, network, url_name, actor):
    login(client, network.users[actor])
    assert client.get(reverse(url_name)).status_code in (302, 403)


def test_group_edit_is_refused_to_staff(client, network):
    login(client, network.users["county_accounts"])
    group = network.school_a.groups[Role.LEADER]
    url = reverse("wagtailusers_groups:edit", args=[group.pk])
    assert client.get(url).status_code in (302, 403)
    assert client.post(url, {"name": "改名"}).status_code in (302, 403)
    group.refresh_from_db()
    assert group.name == "甲中学 领导"


@pytest.mark.parametrize("action", ["delete", "set_active_state"])
def test_bulk_actions_cannot_reach_leaders_or_other_schools(client, network, action):
    login(client, network.users["a_administrator"])
    url = reverse("wagtail_bulk_action", args=["auth", "user", action])
    for target in ("a_leader", "b_teacher"):
        user = network.users[target]
        client.post(f"{url}?id={user.pk}", {"mark_as_active": "False"})
        assert User.objects.filter(pk=user.pk, is_active=True).exists()


def test_deleting_another_schools_user_is_out_of_reach(client, network):
    login(client, network.users["a_administrator"])
    url = reverse("wagtailusers_users:delete", args=[network.users["b_teacher"].pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert User.objects.filter(username="b_teacher").exists()


@pytest.mark.parametrize("report", ["aging_pages", "locked_pages"])
def test_page_reports_list_only_own_schools_pages(client, network, report):
    from wagtail.models import Page

    Page.objects.descendant_of(network.school_b.home_page, inclusive=True).update(
        locked=True, locked_by=network.users["b_administrator"])
    login(client, network.users["a_administrator"])
    page = client.get(reverse(f"wagtailadmin_reports:{report}")).content.decode()
    assert network.school_b.home_page.title not in page
    login(client, network.users["b_administrator"])
    page = client.get(reverse(f"wagtailadmin_reports:{report}")).content.decode()
    assert network.school_b.home_page.title in page


def test_a_changed_e_mail_address_is_in_the_security_log(client, network):
    # Where the next password-reset link goes is an account's key.
    leader = network.users["a_leader"]
    login(client, network.users["county_accounts"])
    response = client.post(reverse("wagtailusers_users:edit", args=[leader.pk]), {
        "username": "a_leader", "email": "elsewhere@example.cn", "first_name": "甲",
        "last_name": "领导", "is_active": "on",
        "groups": [network.school_a.groups[Role.LEADER].pk]})
    assert response.status_code == 302
    changed = SecurityEvent.objects.get(event="account_changed", subject="user:a_leader")
    assert changed.actor == "county_accounts"
    assert changed.entry["data"]["email"] == {"from": "", "to": "elsewhere@example.cn"}
