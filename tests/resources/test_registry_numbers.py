"""Registry numbers are taken in the database: consecutive, and never shared between
concurrent transactions (on PostgreSQL, several threads at once)."""

import threading

import pytest
from django.db import connection, connections

from cms.models import SchoolHomePage
from cms.resources.models import RegistryCounter
from cms.resources.services import allocate_registry_sequences


def test_numbers_run_on_per_school_and_year(network):
    school = network.school_a.home_page
    assert list(allocate_registry_sequences(school=school, year=2026, count=3)) == [1, 2, 3]
    assert list(allocate_registry_sequences(school=school, year=2026, count=2)) == [4, 5]
    assert list(allocate_registry_sequences(school=school, year=2027, count=1)) == [1]
    other = network.school_b.home_page
    assert list(allocate_registry_sequences(school=other, year=2026, count=1)) == [1]
    with pytest.raises(ValueError):
        allocate_registry_sequences(school=school, year=2026, count=0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency needs PostgreSQL")
def test_concurrent_batches_never_share_a_number():
    from wagtail.models import Page

    root = Page.get_first_root_node() or Page.add_root(instance=Page(title="Root"))
    school = root.add_child(instance=SchoolHomePage(title="并发中学", slug="bingfa", live=False))
    taken, errors = [], []
    barrier = threading.Barrier(8)

    def worker():
        try:
            barrier.wait()
            for _ in range(10):
                taken.extend(allocate_registry_sequences(school=school, year=2026, count=3))
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(taken) == list(range(1, 8 * 10 * 3 + 1))
    assert RegistryCounter.objects.get(school=school).last_sequence == 240
