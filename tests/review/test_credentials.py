"""Leaders enrol and revoke their own signing credentials in the admin."""

from django.urls import reverse

from review.keys import verify_ed25519
from review.models import SigningCredential
from review.pipeline.approvals import enrol_passphrase_credential
from tests.conftest import make_user
from tests.review.world import FAST_KDF
from tests.shared import reauthenticate


def test_leader_enrols_a_passphrase_key_and_signs_with_it(client, world):
    leader = world.users["leader"]
    reauthenticate(client, leader)
    page = client.get(reverse("review_credentials")).content.decode()
    assert "登记口令密钥" in page
    response = client.post(reverse("review_credentials"), {
        "name": "办公室", "passphrase": "a-new-passphrase-26", "confirm": "a-new-passphrase-26"})
    assert response.status_code == 302
    credential = SigningCredential.objects.filter(user=leader).latest("created_at")
    assert credential.name == "办公室" and credential.algorithm == "ed25519"
    assert "a-new-passphrase-26" not in str(credential.sealed_key)  # only the sealed key is kept
    from review.keys import SealedKey, sign

    signature = sign(SealedKey.from_json(credential.sealed_key), "a-new-passphrase-26", b"x")
    assert verify_ed25519(bytes(credential.public_key_der), signature, b"x")


def test_short_or_mismatched_passphrases_are_refused(client, world):
    leader = world.users["leader"]
    reauthenticate(client, leader)
    before = SigningCredential.objects.count()
    for data in ({"passphrase": "short", "confirm": "short"},
                 {"passphrase": "long-enough-passphrase", "confirm": "different-passphrase"}):
        response = client.post(reverse("review_credentials"), data)
        assert response.status_code == 200
    assert SigningCredential.objects.count() == before


def test_revoking_own_credential_only(client, world):
    deputy = make_user("deputy", world.leaders)
    enrol_passphrase_credential(user=deputy, passphrase="deputy-passphrase-26", kdf=FAST_KDF)
    own = world.users["leader"].signing_credentials.get()
    other = deputy.signing_credentials.get()
    client.force_login(world.users["leader"])
    client.post(reverse("review_credential_revoke", args=[other.pk]))
    other.refresh_from_db()
    assert other.revoked_at is None
    client.post(reverse("review_credential_revoke", args=[own.pk]))
    own.refresh_from_db()
    assert own.revoked_at is not None


def test_menu_item_is_shown_to_leaders_only(client, world):
    # The sidebar is JSON for the admin's JavaScript; look for the item's address.
    url = reverse("review_credentials")
    client.force_login(world.users["leader"])
    assert url in client.get(reverse("wagtailadmin_home")).content.decode()
    client.force_login(world.users["author"])
    assert url not in client.get(reverse("wagtailadmin_home")).content.decode()
