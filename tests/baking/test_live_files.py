"""check-live extends to the baked files: each file's SHA-256 is recorded against the register
entry it reflects; tampered, missing, stale, planted and orphaned files are found, and
``--restore`` rewrites or removes them."""

import os
import time
from pathlib import PurePosixPath

import pytest
from django.core.management import call_command

from cms.baking import paths
from cms.baking.files import sha256_bytes
from cms.baking.models import BakedFile
from review.models import RegisterHead
from review.pipeline.actions import TakedownAction
from tests.baking.conftest import baked, url_of
from tests.conftest import publish
from tests.review.test_register_log import run


def test_every_baked_file_is_recorded_with_its_hash_and_the_register_head(article, bake_dir):
    head = RegisterHead.objects.get()
    records = list(BakedFile.objects.select_related("entry"))
    on_disk = {(site.name, path.relative_to(site).as_posix())
               for site in bake_dir.iterdir() if site.is_dir()
               for path in site.rglob("*") if path.is_file()}
    assert {(r.site, r.path) for r in records} == on_disk
    for record in records:
        data = (bake_dir / record.site / record.path).read_bytes()
        assert (record.sha256, record.size) == (sha256_bytes(data), len(data))
        assert record.entry.seq == head.seq
    page_file = BakedFile.objects.get(site="jia.test", path=url_of(article).strip("/")
                                      + "/index.html")
    assert page_file.page_id == article.pk
    assert run("check-live")[0] == 0


def test_a_tampered_file_is_found_and_rewritten(article, bake_dir):
    page_file = baked(bake_dir, "jia.test", url_of(article))
    original = page_file.read_bytes()
    page_file.write_bytes(original.replace("期末考试安排".encode(), "考试取消".encode()))
    code, out = run("check-live")
    assert code == 1 and "SHA-256 不符" in out and url_of(article).strip("/") in out
    code, out = run("check-live", "--restore")
    assert code == 1 and "重新生成" in out
    assert page_file.read_bytes() == original
    assert run("check-live")[0] == 0


def test_a_missing_file_is_found_and_rewritten(article, bake_dir):
    sitemap = bake_dir / "jia.test" / "sitemap.xml"
    original = sitemap.read_bytes()
    sitemap.unlink()
    code, out = run("check-live", "--restore")
    assert code == 1 and "不见了" in out
    assert sitemap.read_bytes() == original
    assert run("check-live")[0] == 0


def test_planted_files_are_found_and_removed(article, bake_dir):
    site = bake_dir / "jia.test"
    planted = site / "promo" / "index.html"
    planted.parent.mkdir()
    planted.write_text("<a href='http://casino.example'>博彩</a>")
    old_temporary = site / ".bake-abc.tmp"
    old_temporary.write_text("leftover")
    an_hour_ago = time.time() - 3600
    os.utime(old_temporary, (an_hour_ago, an_hour_ago))
    fresh_temporary = site / ".bake-def.tmp"  # a bake in progress
    fresh_temporary.write_text("being written")
    code, out = run("check-live", "--restore")
    assert code == 1 and out.count("没有发布记录") == 2 and "promo/index.html" in out
    assert not planted.exists() and not planted.parent.exists()
    assert not old_temporary.exists() and fresh_temporary.exists()
    fresh_temporary.unlink()
    assert run("check-live")[0] == 0


def test_a_takedown_whose_bake_failed_is_found_and_its_file_removed(article, bake_dir):
    # The takedown commits but its background bake never runs (here: nothing runs on commit).
    TakedownAction(article, user=None, reason="内容有误").execute(skip_permission_checks=True)
    page_file = baked(bake_dir, "jia.test", url_of(article))
    assert page_file.exists()
    code, out = run("check-live", "--restore")
    assert code == 1 and "已不在线上" in out
    assert not page_file.exists()
    assert "已删除" in out


def test_a_republication_whose_bake_failed_is_found_and_rebaked(article, bake_dir):
    article.title = "期末考试安排（更正）"
    article.save_revision()
    publish(article)  # no bake runs: the file still shows the old title
    page_file = baked(bake_dir, "jia.test", url_of(article))
    assert "更正".encode() not in page_file.read_bytes()
    code, out = run("check-live")
    assert code == 1 and "最新发布登记" in out
    run("check-live", "--restore")
    assert "更正".encode() in page_file.read_bytes()
    record = BakedFile.objects.get(page=article, path__endswith=f"{article.slug}/index.html")
    assert record.entry.seq == RegisterHead.objects.get().seq
    # The listings, homes, feeds and sitemap that show it were stale too, and rebaked.
    assert "更正".encode() in baked(bake_dir, "jia.test", "/news/").read_bytes()
    assert run("check-live")[0] == 0


def test_files_of_a_site_that_no_longer_exists_are_removed(network, article, bake_dir):
    from django.db import connection

    # Behind the CMS's back: a live site's record is deleted only that way
    # (cms.sitechanges refuses it otherwise).
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM wagtailcore_site WHERE hostname = %s", ["yi.test"])
    assert (bake_dir / "yi.test").is_dir()
    code, out = run("check-live", "--restore")
    assert code == 1 and "网站已不存在" in out
    assert not (bake_dir / "yi.test").exists()
    assert not BakedFile.objects.filter(site="yi.test").exists()


def test_a_full_rebake_forgets_the_records_of_pruned_files(article, bake_dir):
    TakedownAction(article, user=None, reason="撤下").execute(skip_permission_checks=True)
    call_command("bake", "--all", stdout=None, stderr=None)
    assert not BakedFile.objects.filter(page=article).exists()
    assert run("check-live")[0] == 0


@pytest.mark.parametrize("url_path, page_number", [
    ("/", 1), ("/news/", 1), ("/news/", 7), ("/学校/概况/", 1), ("/sitemap.xml", 1),
    ("/sitemap-7.xml", 1)])
def test_url_for_file_inverts_file_for_url(url_path, page_number):
    relative = paths.file_for_url(url_path=url_path, page_number=page_number)
    assert paths.url_for_file(relative) == (url_path, page_number)


@pytest.mark.parametrize("name", ["news/page.html", "news/.hidden/index.html", "admin/index.html",
                                  "news/index-page0.html", "news/index-page2.htm"])
def test_url_for_file_refuses_names_a_bake_never_writes(name):
    assert paths.url_for_file(PurePosixPath(name)) is None


def test_notify_tells_superusers_of_a_planted_file(article, bake_dir, mailoutbox,
                                                   django_user_model,
                                                   django_capture_on_commit_callbacks):
    django_user_model.objects.create_superuser("bureau_it", "root@bureau.example", "x")
    planted = bake_dir / "jia.test" / "promo.html"
    planted.write_text("广告")
    with django_capture_on_commit_callbacks(execute=True):
        code, _ = run("check-live", "--notify")
    assert code == 1
    alarms = [m for m in mailoutbox if "root@bureau.example" in m.to]
    assert alarms and "promo.html" in alarms[0].body
    assert planted.exists()  # --notify alone changes nothing
