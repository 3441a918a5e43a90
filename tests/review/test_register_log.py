"""publication_log: verify, checkpoint, check-live (with restore), daily — and tampering done
the way an attacker with database access would, behind the ORM's back."""

import json

import pytest
from django.core.management import call_command
from django.db import connection
from wagtail.models import Page

from review.canonical import canonical_json, entry_hash
from review.models import AppendOnlyError, Checkpoint, RegisterEntry, RegisterHead
from review.register import merkle, signednote
from review.register.checkpoints import checkpoint_root, make_checkpoint
from review.register.logkey import load_log_key
from tests.review.support.tamper import raw_delete, raw_update, run_command
from tests.review.world import make_bulletin


def run(*args) -> tuple[int, str]:
    """Run publication_log; its exit code and output."""
    return run_command("publication_log", *args)


@pytest.fixture
def articles(world):
    return [make_bulletin(world, f"第{i}号通知", owner=world.users["author"]) for i in range(3)]


def test_an_untouched_register_verifies(articles):
    make_checkpoint()
    code, out = run("verify")
    assert code == 0 and "INTACT" in out


def test_a_checkpoint_is_a_signed_note_of_the_merkle_root(articles):
    checkpoint = make_checkpoint()
    size = RegisterHead.objects.get().seq
    assert checkpoint.size == size
    leaves = [merkle.leaf_hash(canonical_json(e))
              for e in RegisterEntry.objects.order_by("seq").values_list("entry", flat=True)]
    assert checkpoint_root(checkpoint) == merkle.root(leaves)
    body, [(name, key_hash, signature)] = signednote.parse_signed_note(checkpoint.note)
    public = load_log_key().public_key()
    public.verify(signature, body.encode())  # raises if it does not hold
    assert key_hash == signednote.ed25519_key_hash(name, public.public_bytes_raw())
    assert make_checkpoint() == checkpoint  # nothing new: the same checkpoint
    code, out = run("checkpoint")
    assert code == 0 and f"\n{size}\n" in out and Checkpoint.objects.count() == 2


def test_an_edited_entry_is_named(articles):
    entry = RegisterEntry.objects.get(seq=RegisterEntry.objects.count() - 1)
    edited = {**entry.entry, "approval": {**entry.entry["approval"], "title": "改过的标题"}}
    raw_update("review_registerentry", {"entry": edited}, "seq = %s", [entry.seq])
    code, out = run("verify")
    assert code == 1 and f"entry #{entry.seq}" in out


def test_a_deleted_entry_is_named(articles):
    seq = RegisterEntry.objects.count() - 1
    raw_delete("review_registerentry", "seq = %s", [seq])
    code, out = run("verify")
    assert code == 1 and f"entry #{seq}" in out and "缺失" in out


def test_a_rewritten_chain_is_caught_by_the_checkpoint(world, articles):
    """Someone with the database rewrites an unsigned takedown record and re-chains every
    later entry and the head: every hash and link is consistent again — but the checkpoint,
    signed with the log key and kept elsewhere, no longer matches."""
    from review.pipeline.actions import TakedownAction

    TakedownAction(articles[0], user=world.users["reviewer"], reason="原因一").execute()
    make_bulletin(world, "之后的通知")
    make_checkpoint()
    target = RegisterEntry.objects.get(kind="takedown")
    rows = list(RegisterEntry.objects.filter(seq__gte=target.seq).order_by("seq"))
    previous = RegisterEntry.objects.get(seq=target.seq - 1).entry_hash
    for row in rows:
        entry = dict(row.entry, prev_hash=previous)
        if row.seq == target.seq:
            entry["approval"] = {**entry["approval"], "reason": "换了一个原因"}
        previous = entry_hash(entry)
        raw_update("review_registerentry", {"entry": entry, "entry_hash": previous}, "seq = %s",
                   [row.seq])
    raw_update("review_registerhead", {"entry_hash": previous}, "id = %s", [1])
    code, out = run("verify")
    assert code == 1 and "检查点" in out


def test_the_orm_cannot_change_or_remove_entries_or_checkpoints(articles):
    checkpoint = make_checkpoint()
    entry = RegisterEntry.objects.first()
    for attempt in (entry.save, entry.delete, checkpoint.save, checkpoint.delete,
                    lambda: Checkpoint.objects.update(size=0),
                    lambda: Checkpoint.objects.all().delete()):
        with pytest.raises(AppendOnlyError):
            attempt()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL trigger")
def test_on_postgresql_the_database_refuses_updates_and_deletes(articles):
    from django.db import DatabaseError, transaction

    make_checkpoint()
    for table in ("review_registerentry", "review_checkpoint"):
        for sql in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
                c.execute(sql)
    assert RegisterEntry.objects.count() == RegisterHead.objects.get().seq


def test_check_live_finds_a_title_changed_behind_the_cms_and_restores_it(articles):
    target = articles[1]
    Page.objects.filter(pk=target.pk).update(title="被篡改的标题")
    code, out = run("check-live")
    assert code == 1 and "被篡改的标题" in out and "不符" in out

    code, out = run("check-live", "--restore")
    assert code == 1 and "已恢复" in out
    assert Page.objects.get(pk=target.pk).title == "第1号通知"
    restoration = RegisterEntry.objects.order_by("-seq").first()
    assert restoration.kind == "restoration"
    assert RegisterEntry.objects.filter(kind="restoration").count() == 1
    assert restoration.entry["approval"]["restores_seq"] < restoration.seq
    assert run("check-live")[0] == 0
    assert run("verify")[0] == 0


def test_check_live_finds_content_put_online_by_sql_and_takes_it_down(world):
    draft = make_bulletin(world, "从未审批", live=False)
    Page.objects.filter(pk=draft.pk).update(live=True)
    code, out = run("check-live", "--restore")
    assert code == 1 and "没有有效的发布登记" in out
    assert not Page.objects.get(pk=draft.pk).live
    assert RegisterEntry.objects.filter(object_id=str(draft.pk), kind="takedown").exists()
    assert run("check-live")[0] == 0


def test_check_live_finds_content_taken_offline_without_a_record(articles):
    Page.objects.filter(pk=articles[2].pk).update(live=False)
    code, out = run("check-live")
    assert code == 1 and "没有撤稿登记" in out
    run("check-live", "--restore")
    assert Page.objects.get(pk=articles[2].pk).live


def test_daily_mails_the_checkpoint_to_leaders_and_mismatches_to_staff(
        world, other_world, articles, mailoutbox, django_capture_on_commit_callbacks):
    for user in [*world.users.values(), *other_world.users.values()]:
        user.email = f"{user.username}@school.example"
        user.save()
    Page.objects.filter(pk=articles[0].pk).update(title="夜里被改的标题")
    with django_capture_on_commit_callbacks(execute=True):
        code, _ = run("daily")
    assert code == 1
    checkpoint = Checkpoint.objects.latest("pk")
    to_leaders = [m for m in mailoutbox if "检查点" in m.subject]
    assert to_leaders and checkpoint.note in to_leaders[0].body
    assert world.users["leader"].email in {a for m in to_leaders for a in m.to}
    alarms = [m for m in mailoutbox if "不符" in m.subject]
    recipients = {a for m in alarms for a in m.to}
    assert world.users["reviewer"].email in recipients
    assert other_world.users["reviewer"].email not in recipients  # another site's staff


def test_errors_exit_2_and_write_nothing(tmp_path, articles):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as error:
        call_command("publication_log", "export", "--out", str(tmp_path / "b"),
                     "--site", "no-such-school")
    assert error.value.returncode == 2 and not (tmp_path / "b").exists()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    with pytest.raises(CommandError):
        call_command("publication_log", "export", "--out", str(tmp_path / "full"))
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]
    with pytest.raises(CommandError):
        call_command("publication_log", "verify", "--bundle", str(tmp_path / "nothing"))


def test_a_complete_bundle_verifies_offline_and_tampering_is_named(world, articles, tmp_path):
    from review.pipeline.actions import TakedownAction

    TakedownAction(articles[0], user=world.users["reviewer"], reason="核实有误").execute()
    out = tmp_path / "bundle"
    code, text = run("export", "--out", str(out))
    assert code == 0
    size = RegisterHead.objects.get().seq
    lines = (out / "entries.jsonl").read_bytes().splitlines()
    assert len(lines) == size
    assert json.loads(lines[0]) == RegisterEntry.objects.get(seq=1).entry
    assert {p.name for p in (out / "keys").iterdir()} >= {
        f"{world.users['leader'].signing_credentials.get().key_id}.pem"}
    assert (out / "checkpoints" / f"{size}.txt").exists()
    for name in ("verify_bundle.py", "merkle.py", "signednote.py", "VERIFY.md"):
        assert (out / name).exists()
    assert run("verify", "--bundle", str(out))[0] == 0

    # The shipped script runs on its own: nothing of this project on its path.
    import subprocess
    import sys

    standalone = subprocess.run([sys.executable, "-I", str(out / "verify_bundle.py"), str(out)],
                                capture_output=True, text=True, cwd=tmp_path)
    assert standalone.returncode == 0, standalone.stdout + standalone.stderr

    edited = json.loads(lines[2])
    edited["approval"]["title"] = "改过的标题"
    lines[2] = json.dumps(edited, ensure_ascii=False, sort_keys=True,
                          separators=(",", ":")).encode()
    (out / "entries.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    code, text = run("verify", "--bundle", str(out))
    assert code == 1 and "TAMPERED: entry seq 3 (line 3)" in text


def test_a_bundle_for_one_site_holds_only_its_entries_and_verifies(world, other_world,
                                                                   articles, tmp_path):
    make_bulletin(other_world, "另一个网站的通知")
    out = tmp_path / "board"
    code, _ = run("export", "--out", str(out), "--site", world.home.slug)
    assert code == 0
    entries = [json.loads(line) for line in (out / "entries.jsonl").read_text().splitlines()]
    assert entries and {e["approval"]["site"] for e in entries} == {world.site.hostname}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] is False and manifest["entries"] == len(entries)
    assert run("verify", "--bundle", str(out))[0] == 0


def test_prove_prints_proofs_that_verify_against_the_checkpoint(articles):
    checkpoint = make_checkpoint()
    root = checkpoint_root(checkpoint)
    code, out = run("prove", "--seq", "2")
    proof = json.loads(out)
    leaf = merkle.leaf_hash(canonical_json(RegisterEntry.objects.get(seq=2).entry))
    assert code == 0 and merkle.verify_inclusion(
        leaf, 1, checkpoint.size, [bytes.fromhex(h) for h in proof["inclusion"]], root)
    code, out = run("prove", "--old-size", "3")
    proof = json.loads(out)
    assert merkle.verify_consistency(3, checkpoint.size, bytes.fromhex(proof["old_root"]), root,
                                     [bytes.fromhex(h) for h in proof["proof"]])
