"""Records and files agree after a crash at any instant, and check-live finds every file older
than the publication it should show (issue 19, "Nothing stale goes unnoticed")."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from cms.baking import engine, files
from cms.baking.engine import bake_plan, reconcile_pending
from cms.baking.models import BakedFile
from cms.baking.plan import plan_events
from review.pipeline.actions import TakedownAction
from tests.baking.conftest import baked, url_of
from tests.conftest import make_article, publish
from tests.review.test_register_log import run


class Killed(BaseException):
    """What SIGKILL does to a bake, short of the process: nothing after it runs."""


def killed_bake(monkeypatch, *, page_ids, where: str) -> None:
    """Bake the events of ``page_ids`` and die at ``where``; records batched for later are
    never written (a killed process flushes nothing)."""
    monkeypatch.setattr(engine._Baker, "flush", lambda self: None)
    if where == "before rename":
        def replace(source, target):
            raise Killed
        monkeypatch.setattr(files.os, "replace", replace)
    elif where == "after rename":
        def record(self, **kwargs):
            raise Killed
        monkeypatch.setattr(engine._Baker, "record", record)
    elif where in ("before removal", "after removal"):
        real = files.remove_file

        def remove_file(**kwargs):
            if where == "after removal":
                real(**kwargs)
            raise Killed
        monkeypatch.setattr(files, "remove_file", remove_file)
    with pytest.raises(Killed):
        bake_plan(plan=plan_events(page_ids=page_ids))
    monkeypatch.undo()


def age_pending_records() -> None:
    """As if the crash happened an hour ago (past the grace given to a running bake)."""
    BakedFile.objects.exclude(pending_sha256="").update(
        baked_at=timezone.now() - datetime.timedelta(hours=1))


def assert_records_agree_with_files(bake_dir) -> None:
    for record in BakedFile.objects.all():
        path = bake_dir / record.site / record.path
        assert path.is_file(), record
        assert files.sha256_bytes(path.read_bytes()) == record.sha256, record
        assert record.pending_sha256 == ""


@pytest.mark.parametrize("where", ["before rename", "after rename"])
def test_a_bake_killed_while_writing_leaves_no_false_mismatch(article, bake_dir, monkeypatch,
                                                             where):
    article.title = "期末考试安排（更正）"
    article.save_revision()
    publish(article)
    killed_bake(monkeypatch, page_ids=[article.pk], where=where)
    page_file = baked(bake_dir, "jia.test", url_of(article))
    assert ("更正".encode() in page_file.read_bytes()) == (where == "after rename")
    for aged in (False, True):  # while the crash is fresh, and once it is old
        if aged:
            age_pending_records()
        code, out = run("check-live")
        assert "SHA-256 不符" not in out and "没有发布记录" not in out
        assert code == 1 and "之前" in out  # the listings the bake never reached are stale
    assert not BakedFile.objects.exclude(pending_sha256="").exists()  # settled
    call_command("bake", stdout=None, stderr=None)  # the restart: catch up
    assert run("check-live")[0] == 0
    assert_records_agree_with_files(bake_dir)
    assert "更正".encode() in page_file.read_bytes()


@pytest.mark.parametrize("where", ["before removal", "after removal"])
def test_a_takedown_bake_killed_while_removing_leaves_no_false_finding(
        article, bake_dir, monkeypatch, where):
    TakedownAction(article, user=None, reason="内容有误").execute(skip_permission_checks=True)
    killed_bake(monkeypatch, page_ids=[article.pk], where=where)
    age_pending_records()
    code, out = run("check-live")
    assert code == 1  # the listings the bake never reached are stale
    assert "SHA-256 不符" not in out and "没有发布记录" not in out and "不见了" not in out
    # Kept until removed, the file is reported as what it is: a page no longer online.
    assert ("已不在线上" in out) == (where == "before removal")
    call_command("bake", stdout=None, stderr=None)
    assert run("check-live")[0] == 0
    assert not baked(bake_dir, "jia.test", url_of(article)).exists()
    assert_records_agree_with_files(bake_dir)


def test_reconcile_settles_each_state_a_crash_can_leave(article, bake_dir, monkeypatch):
    site = bake_dir / "jia.test"
    page = BakedFile.objects.get(site="jia.test", path__endswith=f"{article.slug}/index.html")
    new_bytes = b"<html>new</html>"
    # 1. announced and renamed, never completed → completed from the file.
    BakedFile.objects.filter(pk=page.pk).update(pending_sha256=files.sha256_bytes(new_bytes))
    (site / page.path).write_bytes(new_bytes)
    # 2. a new file announced, never created → the row goes.
    BakedFile.objects.create(site="jia.test", path="ghost/index.html", sha256="", size=0,
                             pending_sha256="a" * 64, baked_at=timezone.now())
    # 3. announced, the rename never happened → old bytes kept, no register entry claimed.
    sitemap = BakedFile.objects.get(site="jia.test", path="sitemap.xml")
    BakedFile.objects.filter(pk=sitemap.pk).update(pending_sha256="b" * 64)
    # 4. neither old nor new bytes on disk (tampered after the crash) → left to check-live.
    home = BakedFile.objects.get(site="jia.test", path="index.html")
    BakedFile.objects.filter(pk=home.pk).update(pending_sha256="c" * 64)
    (site / "index.html").write_bytes(b"defaced")
    assert reconcile_pending(root=bake_dir) == 0  # all within the grace of a running bake
    age_pending_records()
    assert reconcile_pending(root=bake_dir) == 3
    page.refresh_from_db()
    assert (page.sha256, page.size, page.pending_sha256) == (
        files.sha256_bytes(new_bytes), len(new_bytes), "")
    assert not BakedFile.objects.filter(path="ghost/index.html").exists()
    sitemap_after = BakedFile.objects.get(pk=sitemap.pk)
    assert (sitemap_after.sha256, sitemap_after.entry_id, sitemap_after.pending_sha256) == (
        sitemap.sha256, None, "")
    code, out = run("check-live")
    assert code == 1 and "jia.test/index.html：文件内容与发布时记录的 SHA-256 不符" in out


def test_killed_right_after_an_approval_commits_every_stale_file_is_found(
        network, article, news, bake_dir):
    # The approval commits; its bake never runs (nothing runs on commit here).
    fresh = make_article(news, "录取名单公布")
    code, out = run("check-live")
    assert code == 1
    stale = {line.split("：")[0].removeprefix("文件 ") for line in out.splitlines()
             if "之前" in line}
    assert stale == {"jia.test/index.html", "jia.test/feed.xml", "jia.test/news/index.html",
                     "jia.test/news/feed.xml", "jia.test/sitemap.xml", "jia.test/sitemap-1.xml",
                     "portal.test/index.html",
                     "portal.test/feed.xml"}
    article_path = url_of(fresh).strip("/") + "/index.html"
    assert f"jia.test/{article_path}：页面已发布，却没有静态文件" in out
    # Another school's files show nothing of it: not stale.
    assert "yi.test" not in out
    run("check-live", "--restore")
    assert "录取名单公布".encode() in baked(bake_dir, "jia.test", url_of(fresh)).read_bytes()
    assert "录取名单公布".encode() in baked(bake_dir, "jia.test", url_of(news)).read_bytes()
    assert run("check-live")[0] == 0


def test_a_column_publication_makes_every_file_of_its_site_stale(network, article, news,
                                                                bake_dir):
    news.title = "学校新闻"
    news.save_revision()
    publish(news)  # the navigation of every page of the site changes; no bake runs
    code, out = run("check-live")
    assert code == 1 and url_of(article).strip("/") in out  # the article's navigation too
    assert "yi.test" not in out
    run("check-live", "--restore")
    assert run("check-live")[0] == 0
