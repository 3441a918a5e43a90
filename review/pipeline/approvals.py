"""Leaders' signed approvals: what is signed, how it is signed, how it is checked.

The approval object (RFC 8785 canonical JSON) names the exact revision and its content hash,
attachments with their SHA-256, who submitted, who reviewed first, who approved, and when.
"""

import base64
import hashlib
import secrets

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from modelcluster.models import get_all_child_relations
from wagtail.fields import StreamField

from review import keys
from review.canonical import canonical_json, json_normalise
from review.content import content_sha256
from review.exceptions import ApprovalError
from review.pipeline.audience_guard import audience_of
from review.pipeline.records import Approval, SigningCredential
from review.pipeline.signatures import webauthn_signature_holds
from review.register.entries import base_content_type, describe_object, iso_utc


def child_parent_keys(model) -> dict[str, str]:
    return {relation.get_accessor_name(): relation.field.name
            for relation in get_all_child_relations(model)}


def stream_field_names(model) -> frozenset[str]:
    return frozenset(f.name for f in model._meta.get_fields() if isinstance(f, StreamField))


def revision_content_sha256(revision) -> str:
    """The hash of the object the revision gives back, exactly as the publication guard
    hashes what is saved. Not of the stored text: DjangoJSONEncoder keeps milliseconds, so a
    time with 1–999 microseconds is stored as ``…:03.000Z``, comes back as ``…:03`` and is
    serialised as ``…:03Z`` (one timestamp in a thousand would not match its approval)."""
    return object_content_sha256(revision.as_object())


def object_content_sha256(obj) -> str:
    """The hash of what ``obj`` would show if saved as it is now."""
    data = json_normalise(obj.serializable_data(), encoder=DjangoJSONEncoder)
    return content_sha256(data, child_parent_keys=child_parent_keys(type(obj)),
                          json_text_keys=stream_field_names(type(obj)))


def file_sha256(field_file) -> str:
    digest = hashlib.sha256()
    with field_file.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def describe_attachments(obj) -> list[dict]:
    """Files the object declares through ``review_attachments()`` (duck-typed: anything with
    ``pk``, ``filename`` and ``file``, such as Wagtail documents and images). ``kind`` tells
    documents from images, whose ids are separate sequences.

    What readers read of a file is signed with its bytes: its ``title`` (an attachment's
    link text) and, for images, ``alt`` (the default alt text, from the description). An
    edit of either goes public only with the next approval. Approvals signed before these
    were added name neither; readers then get the file's current title."""
    files = getattr(obj, "review_attachments", lambda: [])()
    return [describe_file(f) for f in files]


def describe_file(f) -> dict:
    described = {"kind": f._meta.model_name, "id": f.pk, "filename": f.filename,
                 "size": f.file.size, "sha256": file_sha256(f.file)}
    if getattr(f, "title", None) is not None:
        described["title"] = f.title
    if hasattr(f, "default_alt_text"):
        described["alt"] = f.default_alt_text
    return described


def _username(user) -> str | None:
    return user.get_username() if user is not None else None


def build_approval(*, revision, operator, first_reviewer, approver, submitted_at) -> dict:
    """The approval to sign. For a page, ``audience`` is who may read it (its view
    restrictions and its ancestors', review.pipeline.audience); approvals signed before it
    was added have none, and stay verifiable as signed."""
    obj = revision.as_object()
    audience = audience_of(obj)
    return {
        **describe_object(obj),
        "revision_id": revision.pk,
        "content_sha256": object_content_sha256(obj),
        "attachments": describe_attachments(obj),
        **({"audience": audience} if audience is not None else {}),
        "operator": _username(operator),
        "first_reviewer": _username(first_reviewer),
        "approver": _username(approver),
        "submitted_at": iso_utc(submitted_at) if submitted_at else None,
        "approved_at": iso_utc(timezone.now()),
        "go_live_at": iso_utc(revision.approved_go_live_at) if revision.approved_go_live_at
        else (iso_utc(obj.go_live_at) if getattr(obj, "go_live_at", None) else None),
        "nonce": secrets.token_hex(16),
    }


def enrol_passphrase_credential(*, user, passphrase: str, name: str = "",
                                kdf: keys.KdfParams | None = None) -> SigningCredential:
    sealed = keys.create_sealed_key(passphrase, kdf=kdf)
    return SigningCredential.objects.create(
        user=user, kind=SigningCredential.Kind.PASSPHRASE, name=name or "口令密钥",
        algorithm="ed25519", key_id=keys.key_id(sealed.public_key_der),
        public_key_der=sealed.public_key_der, sealed_key=sealed.to_json(),
    )


@transaction.atomic
def sign_with_passphrase(*, credential: SigningCredential, passphrase: str, payload: dict,
                         revision, task_state=None) -> Approval:
    if not credential.is_active:
        raise ApprovalError("签名凭证已吊销。")
    if credential.kind != SigningCredential.Kind.PASSPHRASE:
        raise ApprovalError("该凭证不是口令密钥。")
    sealed = keys.SealedKey.from_json(credential.sealed_key)
    try:
        value = keys.sign(sealed, passphrase, canonical_json(payload))
    except keys.PassphraseError as error:
        raise ApprovalError(str(error)) from error
    signature = {"alg": "ed25519", "key_id": credential.key_id,
                 "value": base64.b64encode(value).decode()}
    return record_approval(credential=credential, payload=payload, signature=signature,
                           revision=revision, task_state=task_state)


def record_approval(*, credential, payload, signature, revision, task_state=None) -> Approval:
    """Store an approval whose signature verifies; refuse anything else. ``task_state`` is
    the leader's step of the workflow it is given at (None outside a workflow)."""
    approval = Approval(
        content_type=base_content_type(revision.as_object()), object_id=str(revision.object_id),
        revision=revision, content_sha256=payload["content_sha256"], payload=payload,
        signature=signature, credential=credential, approver=credential.user,
        task_state=task_state,
    )
    if not signature_holds(approval):
        raise ApprovalError("签名验证失败。")
    approval.save()
    return approval


def signature_holds(approval: Approval) -> bool:
    """The signature verifies with the credential's key, and the credential is not revoked."""
    credential = approval.credential
    signature = approval.signature
    if not credential.is_active or signature.get("key_id") != credential.key_id:
        return False
    if keys.key_id(bytes(credential.public_key_der)) != credential.key_id:
        return False
    if signature.get("alg") == "ed25519":
        return keys.verify_ed25519(bytes(credential.public_key_der),
                                   base64.b64decode(signature["value"]),
                                   canonical_json(approval.payload))
    if signature.get("alg") in ("webauthn-es256", "webauthn-eddsa"):
        return webauthn_signature_holds(bytes(credential.public_key_der), signature,
                                        approval.payload)
    return False
