"""Listing pages numbered from the oldest (cms.baking.listing): plain logic, no database."""

import pytest

from cms.baking import listing
from cms.baking.listing import ArticlesInOrder, Listing, Position, chunk, page_number


class Rows:
    """Stands in for the articles' queryset: rows are their ids."""

    def in_bulk(self, ids):
        return {pk: pk for pk in ids}


def column(count: int, resources=()) -> Listing:
    newest_first = list(range(count, 0, -1))  # article n is the nth oldest
    return Listing(articles=ArticlesInOrder(ids=newest_first, queryset=Rows()),
                   resources=list(resources), sub_columns=[])


@pytest.fixture(autouse=True)
def three_a_page(monkeypatch):
    monkeypatch.setattr(listing, "ARTICLES_PER_PAGE", 3)
    monkeypatch.setattr(listing, "RESOURCES_PER_PAGE", 2)


def test_archive_pages_are_numbered_from_the_oldest():
    seven = column(7)
    assert list(seven.archive_pages) == [2, 3, 4]
    assert seven.page(number=None).articles == [7, 6, 5]
    assert [seven.page(number=n).articles for n in (2, 3, 4)] == [[3, 2, 1], [6, 5, 4], [7]]


def test_an_article_added_changes_only_the_newest_pages():
    before, after = column(7), column(8)
    for number in (2, 3):
        assert before.page(number=number).articles == after.page(number=number).articles
        assert (before.archive_inputs(number=number, article_revisions={})
                == after.archive_inputs(number=number, article_revisions={}))
    assert (before.archive_inputs(number=4, article_revisions={})
            != after.archive_inputs(number=4, article_revisions={}))
    # A republished article changes the fingerprint of its own page only.
    revised = {2: 99}
    assert (after.archive_inputs(number=2, article_revisions=revised)
            != after.archive_inputs(number=2, article_revisions={}))
    assert (after.archive_inputs(number=3, article_revisions=revised)
            == after.archive_inputs(number=3, article_revisions={}))


def test_a_listing_that_fits_its_front_has_no_archive():
    three = column(3)
    assert list(three.archive_pages) == []
    assert three.page(number=5).page_obj == Position(number=1, newest=None)
    assert three.page(number=5).articles == [3, 2, 1]


@pytest.mark.parametrize("value, expected", [(None, 1), ("", 1), ("abc", 1), ("0", 1),
                                             ("-3", 1), ("1", 1), ("4", 4), (7, 7)])
def test_page_number_of_the_query_string(value, expected):
    assert page_number(value) == expected


def test_out_of_range_shows_the_newest_archive_page():
    seven = column(7)
    assert seven.page(number=99).page_obj.number == 4
    assert seven.page(number=99).articles == [7]


def test_links_lead_to_neighbours_the_front_and_the_oldest():
    seven = column(7)
    front = seven.page(number=1).page_obj
    # The front shows 7, 6, 5: the newest older article (4) is on page 3.
    assert (front.newer, front.older, front.oldest) == (None, 3, 2)
    assert (Position(number=4, newest=4).newer, Position(number=4, newest=4).older) == (1, 3)
    assert (Position(number=2, newest=4).newer, Position(number=2, newest=4).older) == (3, None)


def test_resources_turn_pages_from_the_oldest_too():
    listed = column(2, resources=["r5", "r4", "r3", "r2", "r1"])  # newest first
    assert list(listed.archive_pages) == [2, 3, 4]
    assert [listed.page(number=n).resources for n in (2, 3, 4)] == [
        ["r2", "r1"], ["r4", "r3"], ["r5"]]
    assert listed.page(number=2).articles == [2, 1] and listed.page(number=3).articles == []
    assert listed.page(number=1).page_obj.older == 3  # r3 is the newest not on the front


def test_chunk_of_a_short_list():
    assert chunk([3, 2, 1], per_page=2, number=2) == [2, 1]
    assert chunk([3, 2, 1], per_page=2, number=3) == [3]
    assert chunk([3, 2, 1], per_page=2, number=4) == []
