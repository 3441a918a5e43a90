import datetime

import pytest
from django.utils import timezone

from cms.resources.models import Resource, Semester
from cms.resources.rules import ResourceKind, SourceChannel, Visibility, registry_number
from cms.resources.services import allocate_registry_sequences


@pytest.fixture
def semester(db) -> Semester:
    """The semester running today."""
    today = timezone.localdate()
    return Semester.objects.create(start_year=today.year, term=1,
                                   start_date=today - datetime.timedelta(days=30),
                                   end_date=today + datetime.timedelta(days=60))


def make_resources(*, school, teacher, semester, kinds: dict[str, int], approved: bool = True,
                   visibility: str = Visibility.INTERNAL) -> list[Resource]:
    """Resources in bulk, for tests of counting (the pipeline has its own tests): approved
    ones carry ``approved_at`` as the pipeline leaves it."""
    wanted = [kind for kind, n in kinds.items() for _ in range(n)]
    if not wanted:
        return []
    sequences = allocate_registry_sequences(school=school, year=semester.start_year,
                                            count=len(wanted))
    now = timezone.now()
    return Resource.objects.bulk_create([
        Resource(school=school, semester=semester, title=f"{kind} {sequence}", kind=kind,
                 subject="数学", grade="初二", source_channel=SourceChannel.MADE,
                 visibility=visibility, uploader=teacher, registry_year=semester.start_year,
                 registry_sequence=sequence,
                 registry_number=registry_number(school_slug=school.slug,
                                                 year=semester.start_year, sequence=sequence),
                 live=False, approved_at=now if approved else None)
        for kind, sequence in zip(wanted, sequences, strict=True)])


QUOTA_MET = {ResourceKind.PAPER: 1, ResourceKind.REFLECTION: 1, ResourceKind.COURSEWARE: 1,
             ResourceKind.LESSON_PLAN: 47}
