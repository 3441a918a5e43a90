"""manage.py bake: full and incremental baking, through the command."""

import io
import json
import os

import pytest
from django.core.management import CommandError, call_command
from wagtail.models import PageViewRestriction

from tests.baking.conftest import baked, url_of
from tests.conftest import make_article, publish


def bake(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("bake", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_full_bake_writes_exactly_what_the_dynamic_site_serves(client, network, news,
                                                                bake_dir):
    article = make_article(news, "甲中学举行开学典礼")
    urls = {"/": "portal.test"}
    urls.update({url: "jia.test" for url in ("/", url_of(news), url_of(article),
                                            "/sitemap.xml")})
    # Before baking nothing is on disk, so the client gets dynamic rendering.
    dynamic = {(host, url): client.get(url, HTTP_HOST=host) for url, host in
               [("/", "portal.test"), ("/", "jia.test"), (url_of(news), "jia.test"),
                (url_of(article), "jia.test"), ("/sitemap.xml", "jia.test")]}
    assert all("X-Baked" not in response for response in dynamic.values())
    bake("--all")
    for (host, url), response in dynamic.items():
        assert response.status_code == 200
        assert baked(bake_dir, host, url).read_bytes() == response.content, (host, url)
    assert "甲中学举行开学典礼".encode() in baked(bake_dir, "jia.test", url_of(news)).read_bytes()
    assert baked(bake_dir, "yi.test", "/").exists()


def test_drafts_private_pages_and_link_columns_are_not_baked(network, news, bake_dir):
    draft = make_article(news, "草稿", live=False)
    private = make_article(news, "内部通知")
    PageViewRestriction.objects.create(page=private, restriction_type="login")
    bake("--all")
    assert not baked(bake_dir, "jia.test", url_of(draft)).exists()
    assert not baked(bake_dir, "jia.test", url_of(private)).exists()
    assert "内部通知".encode() not in baked(bake_dir, "jia.test", url_of(news)).read_bytes()


def test_every_pagination_page_is_baked_and_stale_ones_pruned(network, news, bake_dir,
                                                              small_pages):
    for number in range(5):
        make_article(news, f"第{number}篇")
    bake("--all")
    listing = url_of(news)
    # The front and archive pages 2-4, numbered from the oldest (two articles each).
    assert [baked(bake_dir, "jia.test", listing, n).exists() for n in (1, 2, 3, 4, 5)] \
        == [True, True, True, True, False]
    assert "第0篇".encode() in baked(bake_dir, "jia.test", listing, 2).read_bytes()
    # A stray file (say from an older tree) is removed by a full bake.
    stray = bake_dir / "jia.test" / "old-column" / "index.html"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"stale")
    bake("--all", "--site", "jia")
    assert not stray.exists() and not stray.parent.exists()


def test_incremental_bake_handles_only_what_the_register_shows_since_last_time(
        network, news, bake_dir):
    bake()  # never baked: everything
    state = json.loads((bake_dir / ".bake-state.json").read_text())
    assert set(state["sites"]) == {"portal.test", "jia.test", "yi.test"}
    untouched = baked(bake_dir, "yi.test", "/")
    os.utime(untouched, (1_000_000, 1_000_000))
    article = make_article(news, "新发布的文章")  # committed without the background job
    out, err = bake()
    assert baked(bake_dir, "jia.test", url_of(article)).exists()
    assert "新发布的文章".encode() in baked(bake_dir, "jia.test", "/").read_bytes()
    assert "新发布的文章".encode() in baked(bake_dir, "portal.test", "/").read_bytes()
    assert untouched.stat().st_mtime == 1_000_000  # another school's site was not rebaked
    assert "增量" in err and "#" in err  # the progress bar, on stderr
    assert "完成" in out


def test_incremental_bake_removes_a_taken_down_page(network, news, bake_dir):
    article = make_article(news, "将被撤下")
    bake()
    page_file = baked(bake_dir, "jia.test", url_of(article))
    assert page_file.exists()
    from review.pipeline.actions import TakedownAction

    TakedownAction(article, user=None, reason="测试撤稿").execute(skip_permission_checks=True)
    bake()
    assert not page_file.exists()
    assert "将被撤下".encode() not in baked(bake_dir, "jia.test", url_of(news)).read_bytes()


def test_site_option_bakes_only_that_site(network, bake_dir):
    bake("--all", "--site", "yi")
    assert baked(bake_dir, "yi.test", "/").exists()
    assert not (bake_dir / "jia.test").exists() and not (bake_dir / "portal.test").exists()
    bake("--all", "--site", "portal.test")  # a host name works too
    assert baked(bake_dir, "portal.test", "/").exists()


def test_unknown_site_is_refused_and_changes_nothing(network, bake_dir):
    with pytest.raises(CommandError, match="未知网站：nowhere"):
        bake("--all", "--site", "yi", "--site", "nowhere")
    assert not bake_dir.exists()


def test_republished_article_updates_its_file(network, news, bake_dir):
    article = make_article(news, "初版标题")
    bake("--all")
    article.title = "修订后的标题"
    article.save_revision()
    publish(article)
    bake()
    assert "修订后的标题".encode() in baked(bake_dir, "jia.test", url_of(article)).read_bytes()


def tree(root) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*"))
            if path.is_file() and path.name != ".bake-state.json"}


@pytest.mark.django_db(transaction=True)
def test_a_parallel_bake_writes_and_records_what_a_sequential_one_does(
        network, news, bake_dir, small_pages, monkeypatch):
    # Worker processes see committed data only: this test commits (on an in-memory SQLite
    # database the command bakes in one process; the PostgreSQL run forks).
    from cms.baking.models import BakedFile

    for number in range(7):
        make_article(news, f"并行文章{number}")
    bake("--all", "--jobs", "1")
    sequential = tree(bake_dir)
    records = set(BakedFile.objects.values_list("site", "path", "sha256"))
    for path in bake_dir.rglob("*.html"):
        path.write_bytes(b"stale")
    monkeypatch.setattr("cms.baking.engine.CHUNK", 3)  # many chunks, shared by two workers
    bake("--all", "--jobs", "2")
    assert tree(bake_dir) == sequential
    assert set(BakedFile.objects.values_list("site", "path", "sha256")) == records
    assert "并行文章0".encode() in baked(bake_dir, "jia.test", url_of(news), 2).read_bytes()
    assert "并行文章6".encode() in baked(bake_dir, "jia.test", url_of(news), 5).read_bytes()


def test_jobs_must_be_positive(network, bake_dir):
    with pytest.raises(CommandError, match="--jobs"):
        bake("--all", "--jobs", "0")
    assert not bake_dir.exists()


def test_a_page_that_fails_to_render_keeps_its_file_and_the_run_fails(
        network, news, bake_dir, monkeypatch):
    article = make_article(news, "将会出错")
    bake("--all")
    page_file = baked(bake_dir, "jia.test", url_of(article))
    before = page_file.read_bytes()
    def jia_state():
        return json.loads((bake_dir / ".bake-state.json").read_text())["sites"]["jia.test"]

    state_before = jia_state()
    article.title = "出错后的新标题"
    article.save_revision()
    publish(article)
    from cms.models import ArticlePage

    def broken(self, request, *args, **kwargs):
        raise RuntimeError("template bug")

    monkeypatch.setattr(ArticlePage, "get_context", broken)
    with pytest.raises(CommandError, match="1 个页面生成失败"):
        bake()
    assert page_file.read_bytes() == before
    assert jia_state() == state_before  # the site's events are taken again next time
    monkeypatch.undo()
    bake()
    assert "出错后的新标题".encode() in page_file.read_bytes()
