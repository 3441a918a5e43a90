"""Publication events re-render the affected files once their transaction commits."""

import contextlib
import re
from urllib.parse import unquote

import pytest
from django.core.management import call_command
from django.urls import reverse
from wagtail.models import Page, Site

from cms.baking import engine, paths
from cms.baking.models import BakedFile
from cms.baking.render import render
from cms.columns import StructuralChange
from cms.models import ColumnPage
from review.models import RegisterHead
from review.pipeline.actions import TakedownAction
from tests.baking.conftest import baked, url_of
from tests.conftest import make_article, publish_via_workflow
from tests.review.test_register_log import run


def test_approval_bakes_the_article_its_listings_homes_and_sitemap(
        network, news, bake_dir, django_capture_on_commit_callbacks):
    teacher = network.users["a_teacher"]
    teaching = network.column(network.school_a, "teaching")
    article = make_article(teaching, "初二物理教学反思", live=False, owner=teacher)
    with django_capture_on_commit_callbacks(execute=True):
        publish_via_workflow(article, submitter=teacher)
    title = "初二物理教学反思".encode()
    assert title in baked(bake_dir, "jia.test", url_of(article)).read_bytes()
    assert title in baked(bake_dir, "jia.test", url_of(teaching)).read_bytes()
    assert title in baked(bake_dir, "jia.test", "/").read_bytes()
    assert title in baked(bake_dir, "portal.test", "/").read_bytes()
    assert url_of(article).encode() in baked(bake_dir, "jia.test", "/sitemap-1.xml").read_bytes()
    assert not (bake_dir / "yi.test").exists()  # another school's site is not touched


def test_nothing_is_baked_when_the_transaction_does_not_commit(network, news, bake_dir):
    # Without running on-commit callbacks (the test's transaction never commits).
    teacher = network.users["a_teacher"]
    article = make_article(news, "未提交的发布", live=False, owner=teacher)
    publish_via_workflow(article, submitter=teacher)
    assert not baked(bake_dir, "jia.test", url_of(article)).exists()


def test_emergency_takedown_removes_the_file_and_updates_listings(
        client, network, news, bake_dir, django_capture_on_commit_callbacks):
    article = make_article(news, "有误的招生简章")
    with django_capture_on_commit_callbacks(execute=True):
        publish_via_workflow(make_article(news, "另一篇", live=False))
    from django.core.management import call_command

    call_command("bake", "--all", stdout=None, stderr=None)
    page_file = baked(bake_dir, "jia.test", url_of(article))
    assert page_file.exists()
    client.force_login(network.users["a_administrator"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("review_takedown", args=[article.pk]),
                    {"reason": "招生人数有误，须核实后重新发布。"})
    assert not page_file.exists()
    assert "有误的招生简章".encode() not in baked(bake_dir, "jia.test", url_of(news)).read_bytes()
    assert "有误的招生简章".encode() not in baked(bake_dir, "portal.test", "/").read_bytes()


def archive_files(bake_dir, column) -> dict[int, bytes]:
    folder = baked(bake_dir, "jia.test", url_of(column)).parent
    return {paths.listing_page_number(path.name): path.read_bytes()
            for path in folder.glob("index-page*.html")}


def assert_archive_as_rendered(network, bake_dir, column) -> None:
    """Every archive page's file holds what rendering it now gives, and no other exists."""
    site = Site.objects.get(hostname="jia.test")
    listing = ColumnPage.objects.get(pk=column.pk).listing()
    files = archive_files(bake_dir, column)
    assert set(files) == set(listing.archive_pages)
    for number, data in files.items():
        assert render(site=site, url_path=url_of(column), page_number=number).content == data


def test_a_publication_renders_only_the_newest_archive_pages(
        network, news, bake_dir, small_pages, django_capture_on_commit_callbacks):
    for number in range(5):
        make_article(news, f"旧文章{number}")
    call_command("bake", "--all", stdout=None, stderr=None)
    folder = baked(bake_dir, "jia.test", url_of(news)).parent
    # Two a page, numbered from the oldest: page 2 [旧1, 旧0], 3 [旧3, 旧2], 4 [旧4].
    assert "旧文章0".encode() in archive_files(bake_dir, news)[2]
    oldest = folder / "index-page2.html"
    written_at = oldest.stat().st_mtime_ns
    rendered = []
    real_put = engine._Baker.put

    def put(self, **kwargs):
        rendered.append((kwargs["url_path"], kwargs.get("page_number", 1)))
        return real_put(self, **kwargs)

    for title in ("新文章甲", "新文章乙"):
        rendered.clear()
        with pytest.MonkeyPatch.context() as patch, \
                django_capture_on_commit_callbacks(execute=True):  # run inside the patch
            patch.setattr(engine._Baker, "put", put)
            publish_via_workflow(make_article(news, title, live=False))
        archive = sorted(number for url, number in rendered
                         if url == url_of(news) and number > 1)
        # 新文章甲 fills page 4 (its newer link moves to the front: page 3 is not touched);
        # 新文章乙 opens page 5, and page 4 links to it.
        assert archive == ([4] if title == "新文章甲" else [4, 5])
    assert oldest.stat().st_mtime_ns == written_at  # never rendered again
    assert "新文章乙".encode() in archive_files(bake_dir, news)[5]
    assert_archive_as_rendered(network, bake_dir, news)
    record = BakedFile.objects.get(site="jia.test", path=f"{url_of(news).strip('/')}"
                                   "/index-page2.html")
    assert record.entry.seq == RegisterHead.objects.get().seq  # checked, so current
    assert run("check-live")[0] == 0


def test_a_takedown_deep_in_the_archive_moves_the_pages_after_it(
        network, news, bake_dir, small_pages, django_capture_on_commit_callbacks):
    articles = [make_article(news, f"存档文章{number}") for number in range(7)]
    call_command("bake", "--all", stdout=None, stderr=None)
    with django_capture_on_commit_callbacks(execute=True):
        TakedownAction(articles[1], user=None, reason="撤下").execute(
            skip_permission_checks=True)
    # Six left: page 4 emptied of its own and removed, pages 2 and 3 re-rendered.
    assert_archive_as_rendered(network, bake_dir, news)
    assert all("存档文章1".encode() not in data
               for data in archive_files(bake_dir, news).values())
    assert run("check-live")[0] == 0


def test_a_column_change_rebakes_its_whole_site(
        network, news, bake_dir, django_capture_on_commit_callbacks):
    article = make_article(news, "文章")
    from django.core.management import call_command

    call_command("bake", "--all", stdout=None, stderr=None)
    news.title = "学校新闻"
    news.save_revision()
    with django_capture_on_commit_callbacks(execute=True):
        publish_via_workflow(news)
    # The navigation of every page of the site names the column.
    assert "学校新闻".encode() in baked(bake_dir, "jia.test", url_of(article)).read_bytes()
    assert "学校新闻".encode() in baked(bake_dir, "jia.test", "/").read_bytes()


def test_an_approved_column_removal_removes_its_files(
        network, news, bake_dir, django_capture_on_commit_callbacks):
    article = make_article(news, "栏目里的文章")
    from django.core.management import call_command

    call_command("bake", "--all", stdout=None, stderr=None)
    news.structural_change = StructuralChange.REMOVE
    news.save_revision()
    with django_capture_on_commit_callbacks(execute=True):
        publish_via_workflow(news)
    assert not baked(bake_dir, "jia.test", url_of(article)).exists()
    assert not baked(bake_dir, "jia.test", url_of(news)).exists()
    assert baked(bake_dir, "jia.test", "/").exists()


def test_an_approved_column_move_bakes_the_new_addresses_and_removes_the_old(
        network, news, bake_dir, django_capture_on_commit_callbacks):
    teaching = network.column(network.school_a, "teaching")
    article = make_article(teaching, "教学文章")
    from django.core.management import call_command

    call_command("bake", "--all", stdout=None, stderr=None)
    old_file = baked(bake_dir, "jia.test", url_of(article))
    assert old_file.exists()
    teaching.structural_change = StructuralChange.MOVE
    teaching.move_to = news
    teaching.save_revision()
    with django_capture_on_commit_callbacks(execute=True):
        publish_via_workflow(teaching)
    article.refresh_from_db()
    assert url_of(article).startswith(url_of(news))
    assert baked(bake_dir, "jia.test", url_of(article)).exists()
    assert not old_file.exists()


DB_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def run_worker() -> None:
    from django.core.management import call_command

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_in_the_default_backend_the_approval_returns_before_the_bake_which_follows(
        network, news, bake_dir, settings):
    """The database queue (the default outside tests): the approval commits the bake's task
    with it; a worker bakes the same files afterwards."""
    from django_tasks_db.models import DBTaskResult

    article = make_article(news, "后台生成的文章", live=False)
    page_file = baked(bake_dir, "jia.test", url_of(article))
    settings.TASKS = DB_BACKEND
    publish_via_workflow(article)  # commits: the bake is queued, not done
    assert not page_file.exists()
    assert DBTaskResult.objects.filter(
        task_path="cms.baking.tasks.bake_publication_events", status="READY").exists()
    run_worker()
    assert "后台生成的文章".encode() in page_file.read_bytes()
    assert "后台生成的文章".encode() in baked(bake_dir, "jia.test", url_of(news)).read_bytes()
    assert not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists()


@pytest.mark.django_db(transaction=True)
def test_in_the_default_backend_tasks_start_after_their_transaction_commits(
        client, network, news, settings):
    """Wagtail's search index updates are tasks too: run by the worker, they see the
    committed page; a transaction rolled back leaves no task behind."""
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DB_BACKEND
    settings.BAKE_ON_PUBLICATION = False  # only the index updates are queued
    with contextlib.suppress(RuntimeError), transaction.atomic():
        publish_via_workflow(make_article(news, "撤回的文章", live=False))
        raise RuntimeError("rolled back")
    assert not DBTaskResult.objects.exists()
    with transaction.atomic():
        article = make_article(news, "运动会圆满落幕", live=False)
        publish_via_workflow(article)
    run_worker()
    response = client.get("/search/", {"q": "运动会"}, HTTP_HOST="jia.test")
    assert "运动会圆满落幕" in response.content.decode()


def test_the_sitemap_is_an_index_of_parts_and_a_publication_renders_one_part(
        network, news, bake_dir, monkeypatch, django_capture_on_commit_callbacks):
    """Parts by page id (a part never reaches 50,000 URLs: SITEMAP_PART_IDS is 5,000): here
    ten ids a part, so the test network spans several."""
    monkeypatch.setattr(paths, "SITEMAP_PART_IDS", 10)
    for number in range(12):
        make_article(news, f"地图文章{number}")
    call_command("bake", "--all", stdout=None, stderr=None)
    site = bake_dir / "jia.test"
    parts = sorted(site.glob("sitemap-*.xml"), key=lambda p: len(p.name))
    assert len(parts) >= 2
    index = (site / "sitemap.xml").read_text()
    home = Site.objects.get(hostname="jia.test").root_page
    for part in parts:
        assert f"<loc>http://jia.test/{part.name}</loc>" in index
        number = paths.sitemap_part_number(f"/{part.name}")
        for url in re.findall(r"<loc>http://jia\.test(/[^<]*)</loc>", part.read_text()):
            page = Page.objects.get(url_path=home.url_path + unquote(url).lstrip("/"))
            assert page.pk // 10 + 1 == number, (part.name, url)
    before = {part.name: part.stat().st_mtime_ns for part in parts}
    with django_capture_on_commit_callbacks(execute=True):
        fresh = publish_via_workflow(make_article(news, "最新地图文章", live=False))
    own = f"sitemap-{fresh.pk // 10 + 1}.xml"
    assert url_of(fresh).encode() in (site / own).read_bytes()
    assert f"<loc>http://jia.test/{own}</loc>" in (site / "sitemap.xml").read_text()
    for name, mtime in before.items():
        if name != own:
            assert (site / name).stat().st_mtime_ns == mtime, name  # not rendered again
    assert run("check-live")[0] == 0


def test_a_burst_of_approvals_puts_every_article_file_first_and_renders_listings_once(
        network, news, bake_dir):
    from cms.baking.engine import register_seq
    from cms.baking.tasks import bake_publication_events

    call_command("bake", "--all", stdout=None, stderr=None)
    # Two approvals commit before the first one's task starts (nothing runs on commit here).
    first = make_article(news, "早八点第一条快讯")
    first_seq = register_seq()
    second = make_article(news, "早八点第二条快讯")
    second_seq = register_seq()
    rendered = []
    real_render = engine.render

    def render_and_note(**kwargs):
        rendered.append(kwargs["url_path"])
        return real_render(**kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "render", render_and_note)
        bake_publication_events.call([first.pk], [], first_seq)
        assert rendered[:2] == [url_of(first), url_of(second)]  # both articles, then the rest
        assert rendered.count(url_of(news)) == 1
        rendered.clear()
        bake_publication_events.call([second.pk], [], second_seq)
    assert rendered == []  # everything it affects is already current
    for title, page in (("第一条", first), ("第二条", second)):
        assert title.encode() in baked(bake_dir, "jia.test", url_of(page)).read_bytes()
        assert title.encode() in baked(bake_dir, "jia.test", url_of(news)).read_bytes()
    assert run("check-live")[0] == 0
