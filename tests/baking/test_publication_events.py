"""Publication events re-render the affected files once their transaction commits."""

import contextlib

import pytest
from django.urls import reverse

from cms.columns import StructuralChange
from tests.baking.conftest import baked, url_of
from tests.conftest import make_article, publish_via_workflow


@pytest.fixture
def news(network):
    return network.column(network.school_a, "news")


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
    assert url_of(article).encode() in baked(bake_dir, "jia.test", "/sitemap.xml").read_bytes()
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


def test_listing_pages_shift_when_an_article_is_published(
        network, news, bake_dir, small_pages, django_capture_on_commit_callbacks):
    for number in range(4):
        make_article(news, f"旧文章{number}")
    from django.core.management import call_command

    call_command("bake", "--all", stdout=None, stderr=None)
    assert not baked(bake_dir, "jia.test", url_of(news), 3).exists()
    with django_capture_on_commit_callbacks(execute=True):
        publish_via_workflow(make_article(news, "最新文章", live=False))
    # Five articles, two a page: the newest heads page 1 and the oldest moves to page 3.
    assert "最新文章".encode() in baked(bake_dir, "jia.test", url_of(news)).read_bytes()
    assert "旧文章0".encode() in baked(bake_dir, "jia.test", url_of(news), 3).read_bytes()


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
