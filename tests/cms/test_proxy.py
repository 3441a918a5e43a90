"""Behind nginx, the client's address is the one nginx reports (cms.proxy): lockouts,
throttles and the security log count clients, not the proxy; nobody else can name an
address."""

import ipaddress

import pytest
from django.core.checks import run_checks
from django.urls import reverse

from cms.proxy import client_address, parse_networks
from review.register.models import SecurityEvent

LOCAL = parse_networks(["127.0.0.1", "::1"])


@pytest.mark.parametrize(("remote", "forwarded", "client"), [
    ("127.0.0.1", "203.0.113.7", "203.0.113.7"),
    # nginx appends what it saw: whatever the client wrote further left is not believed.
    ("127.0.0.1", "198.51.100.1, 203.0.113.7", "203.0.113.7"),
    ("127.0.0.1", "203.0.113.7, 127.0.0.1", "203.0.113.7"),
    ("127.0.0.1", "", "127.0.0.1"),
    ("127.0.0.1", "not-an-address", "127.0.0.1"),
    ("127.0.0.1", "198.51.100.1, junk, 203.0.113.7", "203.0.113.7"),
    ("::1", "2001:db8::5", "2001:db8::5"),
    # A client talking to the application directly cannot name another address.
    ("203.0.113.9", "198.51.100.1", "203.0.113.9"),
])
def test_the_client_is_the_rightmost_address_no_trusted_proxy_holds(remote, forwarded, client):
    assert client_address(remote_addr=remote, forwarded_for=forwarded, trusted=LOCAL) == client


def test_networks_parse_and_bad_values_are_named():
    assert parse_networks(["10.0.0.0/8", " ", "::1"]) == [
        ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1")]
    with pytest.raises(ValueError, match="nginx"):
        parse_networks(["nginx"])


def test_a_bad_setting_fails_the_system_check(settings):
    settings.CMS_TRUSTED_PROXIES = ["nginx"]
    assert "accounts.E002" in {message.id for message in run_checks()}


def _fail_login(client, *, username: str, address: str):
    return client.post(reverse("wagtailadmin_login"),
                       {"username": username, "password": "wrong-password-1"},
                       HTTP_X_FORWARDED_FOR=address)


def test_strangers_behind_nginx_do_not_lock_out_other_readers(client, settings, network):
    """Five strangers' failed logins, each from its own address, leave a teacher who knows
    their password free to log in from a sixth; the log names each client."""
    settings.CMS_TRUSTED_PROXIES = ["127.0.0.1"]  # the test client's REMOTE_ADDR: nginx's
    for number in range(5):
        _fail_login(client, username=f"stranger{number}", address=f"203.0.113.{number + 1}")
    teacher = network.users["a_teacher"]
    teacher.set_password("Right-password-2026")
    teacher.save()
    response = client.post(reverse("wagtailadmin_login"),
                           {"username": teacher.username, "password": "Right-password-2026"},
                           HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert response.status_code == 302
    failures = SecurityEvent.objects.filter(event="login_failed").order_by("seq")
    assert [event.address for event in failures][-5:] == [f"203.0.113.{n}" for n in range(1, 6)]
    # One address failing five times is locked, as before.
    for _ in range(5):
        _fail_login(client, username="stranger9", address="203.0.113.99")
    response = client.post(reverse("wagtailadmin_login"),
                           {"username": teacher.username, "password": "Right-password-2026"},
                           HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert response.status_code != 302
