import pytest

from tests.review.world import World, build_world
from tests.shared import kept_build, read_shared

_world_build = kept_build(build_world, name="_world_build")


@pytest.fixture
def world(request, db) -> World:
    """The lean world (tests/review/world.py), built once per module and read again from the
    database for each test; a transactional test builds its own."""
    return read_shared(request, build_fixture="_world_build", build=build_world).reloaded()


@pytest.fixture
def pending(world):
    """The author's draft, submitted for review (at the first review now)."""
    from cms.publishing import submit
    from tests.review.world import make_bulletin

    page = make_bulletin(world, "教学反思", live=False, owner=world.users["author"])
    submit(page, user=world.users["author"])
    return page


@pytest.fixture
def other_world(world) -> World:
    """A second site beside the lean world: its own editors, leader and workflow."""
    return build_world(name="另一个网站", slug="elsewhere", hostname="elsewhere.test",
                       prefix="other_", superuser=False)
