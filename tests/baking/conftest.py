import pytest
from django.core.cache import cache
from django.core.management import call_command

from cms.baking import paths
from cms.models import ColumnPage
from tests.conftest import make_article


@pytest.fixture(autouse=True)
def bake_dir(settings, tmp_path):
    """Each test bakes into its own directory, with static publishing on (whatever the test
    settings say for other suites) and an empty cache."""
    settings.BAKE_DIR = tmp_path / "public"
    settings.BAKE_ON_PUBLICATION = True
    settings.BAKE_SERVE = True
    cache.clear()
    return settings.BAKE_DIR


@pytest.fixture
def news(network):
    """School A's news column."""
    return network.column(network.school_a, "news")


@pytest.fixture
def article(news, bake_dir):
    """An article of school A's news, with its site baked (a module may define its own)."""
    article = make_article(news, "期末考试安排")
    call_command("bake", "--all", stdout=None, stderr=None)
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
