import shutil
from collections.abc import Callable
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test.utils import override_settings
from wagtail.models import Page, Site

from cms.baking import listing, paths
from cms.models import ColumnPage
from tests.conftest import make_article
from tests.shared import shared_build


@pytest.fixture(autouse=True)
def bake_dir(settings, tmp_path):
    """Each test bakes into its own directory, with static publishing on (whatever the test
    settings say for other suites) and an empty cache."""
    settings.BAKE_DIR = tmp_path / "public"
    settings.BAKE_ON_PUBLICATION = True
    settings.BAKE_SERVE = True
    cache.clear()
    return settings.BAKE_DIR


def baked_build(make: Callable[..., tuple[Page, ...]], *, articles_per_page: int | None = None):
    """A module fixture: the pages ``make(network)`` adds, with every site baked, built once per
    module inside the network's transaction (as tests/shared.py builds), into a directory of
    the module's own. A test reads it with ``copy_of``: the files copied into its own bake_dir,
    the pages read again. A bake of the network takes a second on SQLite and two on PostgreSQL;
    thirty tests read one."""
    @pytest.fixture(scope="module")
    def fixture(_network_build, django_db_blocker, tmp_path_factory):
        directory = tmp_path_factory.mktemp("baked") / "public"

        def build() -> tuple[Page, ...]:
            with (override_settings(BAKE_DIR=directory, BAKE_ON_PUBLICATION=True,
                                    BAKE_SERVE=True),
                  mock.patch.object(listing, "ARTICLES_PER_PAGE",
                                    articles_per_page or listing.ARTICLES_PER_PAGE)):
                cache.clear()
                pages = make(_network_build.value.reloaded())
                call_command("bake", "--all", stdout=None, stderr=None)
            return pages

        with shared_build(django_db_blocker, build) as shared:
            shared.directory = directory
            yield shared

    return fixture


def copy_of(build, bake_dir) -> tuple[Page, ...]:
    """A test's copy of a ``baked_build``: its files in the test's bake_dir, its pages read
    again from the database, and Wagtail's site root paths cached, as the bake leaves them."""
    shutil.copytree(build.directory, bake_dir)
    Site.get_site_root_paths()
    return tuple(type(page).objects.get(pk=page.pk) for page in build.value)


def _article(network) -> tuple[Page, ...]:
    return (make_article(network.column(network.school_a, "news"), "期末考试安排"),)


_article_build = baked_build(_article)


@pytest.fixture
def news(network):
    """School A's news column."""
    return network.column(network.school_a, "news")


@pytest.fixture
def article(_article_build, network, bake_dir):
    """An article of school A's news, with its site baked (a module may define its own)."""
    (article,) = copy_of(_article_build, bake_dir)
    return article


@pytest.fixture
def small_pages(monkeypatch):
    """Two articles per listing page, so that pagination needs a handful of articles."""
    monkeypatch.setattr("cms.baking.listing.ARTICLES_PER_PAGE", 2)


def baked(bake_dir, host: str, url_path: str, page_number: int = 1):
    """The baked file for a URL of the site at ``host`` (port 80)."""
    relative = paths.file_for_url(url_path=url_path, page_number=page_number)
    return bake_dir / host / relative


def url_of(page) -> str:
    return page.specific.get_url_parts()[2]


def column(network, organisation, slug) -> ColumnPage:
    return network.column(organisation, slug)
