"""The compliance engine's plain functions: canonical JSON, content hashes, passphrase keys."""

import json
import subprocess

import pytest

from review.canonical import GENESIS_HASH, canonical_json, entry_hash, sha256_hex
from review.content import content_data, content_sha256
from review.keys import (
    KdfParams,
    PassphraseError,
    SealedKey,
    create_key_file,
    create_sealed_key,
    key_id,
    public_key_pem,
    sign,
    verify_ed25519,
)

FAST_KDF = KdfParams(memory_kib=8 * 1024, iterations=1, lanes=1)


def test_canonical_json_is_rfc_8785():
    assert canonical_json({"b": 1, "a": "中", "c": 1.0, "d": [True, None]}) == (
        '{"a":"中","b":1,"c":1,"d":[true,null]}'.encode())


def test_entry_hash_is_sha256_of_canonical_json():
    entry = {"seq": 1, "prev_hash": GENESIS_HASH}
    assert entry_hash(entry) == sha256_hex(b'{"prev_hash":"' + b"0" * 64 + b'","seq":1}')


PAGE = {
    "pk": 7, "title": "校历", "slug": "xiaoli", "path": "000100020003", "live": True,
    "latest_revision": 12, "draft_title": "校历", "body": '[{"type":"paragraph"}]',
    "attachments": [{"pk": 3, "page": 7, "document": 2, "sort_order": 7, "title": ""}],
}


def test_content_ignores_bookkeeping_and_parent_keys():
    assert content_data(PAGE, child_parent_keys={"attachments": "page"}) == {
        "title": "校历", "slug": "xiaoli", "body": '[{"type":"paragraph"}]',
        "attachments": [{"document": 2, "sort_order": 7, "title": ""}],
    }


def test_content_hash_changes_with_what_readers_see_only():
    keys = {"child_parent_keys": {"attachments": "page"}}
    base = content_sha256(PAGE, **keys)
    moved = {**PAGE, "path": "000100050001", "pk": 7, "live": False, "latest_revision": 99}
    assert content_sha256(moved, **keys) == base
    assert content_sha256({**PAGE, "title": "校历（修订）"}, **keys) != base
    other_doc = {**PAGE, "attachments": [{**PAGE["attachments"][0], "document": 5}]}
    assert content_sha256(other_doc, **keys) != base


def test_sealed_key_signs_and_verifies_and_round_trips():
    sealed = SealedKey.from_json(json.loads(json.dumps(
        create_sealed_key("correct horse battery", kdf=FAST_KDF).to_json())))
    signature = sign(sealed, "correct horse battery", b"approval")
    assert verify_ed25519(sealed.public_key_der, signature, b"approval")
    assert not verify_ed25519(sealed.public_key_der, signature, b"approval!")
    assert len(key_id(sealed.public_key_der)) == 64


def test_wrong_or_short_passphrase_is_refused():
    sealed = create_sealed_key("correct horse battery", kdf=FAST_KDF)
    with pytest.raises(PassphraseError, match="不正确"):
        sign(sealed, "wrong horse battery", b"x")
    with pytest.raises(PassphraseError, match="12"):
        create_sealed_key("short", kdf=FAST_KDF)


def test_signature_verifies_offline_with_openssl(tmp_path):
    sealed = create_sealed_key("correct horse battery", kdf=FAST_KDF)
    message = canonical_json({"page_id": 1, "title": "校历"})
    (tmp_path / "pub.pem").write_text(public_key_pem(sealed.public_key_der))
    (tmp_path / "data.bin").write_bytes(message)
    (tmp_path / "sig.bin").write_bytes(sign(sealed, "correct horse battery", message))
    result = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin",
         "-in", "data.bin", "-sigfile", "sig.bin"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0 and "Signature Verified Successfully" in result.stdout


@pytest.mark.parametrize("lanes", [1, 4])
def test_concurrent_signing_does_not_deadlock(lanes):
    import threading

    sealed = create_sealed_key("correct horse battery",
                               kdf=KdfParams(memory_kib=8 * 1024, iterations=1, lanes=lanes))
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        sign(sealed, "correct horse battery", b"m")), daemon=True) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 6


def test_default_kdf_is_memory_hard_with_one_lane():
    assert KdfParams() == KdfParams(memory_kib=64 * 1024, iterations=3, lanes=1)


def test_stream_fields_hash_the_same_whatever_key_order_the_database_returns():
    from review.content import content_sha256

    written = {"title": "t", "body": '[{"type": "paragraph", "value": "<p>x</p>", "id": "1"}]'}
    from_jsonb = {"title": "t", "body": '[{"id": "1", "type": "paragraph", "value": "<p>x</p>"}]'}
    edited = {"title": "t", "body": '[{"id": "1", "type": "paragraph", "value": "<p>y</p>"}]'}
    keys = frozenset({"body"})
    assert content_sha256(written, json_text_keys=keys) == content_sha256(from_jsonb,
                                                                           json_text_keys=keys)
    assert content_sha256(written, json_text_keys=keys) != content_sha256(edited,
                                                                           json_text_keys=keys)


@pytest.mark.parametrize("value", [
    {"b": 1, "a": [True, None, "中文\u0001\"\\\u2028"], "c": {"é": 2, "z": -3}},
    {"float": 1.5, "exp": 1e21}, {"😀": 1, "ｚ": 2}, [], {}, "s", 0,
])
def test_the_fast_canonical_json_is_rfc_8785(value):
    import rfc8785

    from review.canonical import canonical_json

    assert canonical_json(value) == rfc8785.dumps(value)


def test_a_key_file_is_written_whole_once_and_private(tmp_path):
    path = tmp_path / "keys" / "service.key"
    # What a process killed half-way through writing left behind: not a key.
    path.parent.mkdir()
    (path.parent / ".service.key.999.dead").write_bytes(b"half")
    create_key_file(path, b"first")
    create_key_file(path, b"second")  # another process starting at once: the first is kept
    assert path.read_bytes() == b"first"
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == [".service.key.999.dead",
                                                            "service.key"]
