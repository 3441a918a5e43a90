"""The demo's teachers: some meet every quota, some do not, all through the pipeline."""

import io
import json

from django.core.management import call_command

from cms.resources.models import Resource
from review.models import RegisterEntry


def test_demo_teachers_some_complete_some_not(demo):
    out = io.StringIO()
    call_command("semester_report", "--school", "yizhong", "--format", "json", stdout=out)
    rows = {row["teacher"]: row for row in json.loads(out.getvalue())}
    assert rows["yizhong_teacher1"]["complete"] is True
    assert rows["yizhong_teacher1"]["total"] == 50
    assert rows["yizhong_teacher2"]["complete"] is False
    assert rows["yizhong_teacher2"]["counts"]["论文"] == 1
    assert rows["yizhong_teacher3"]["total"] == 4
    # The public courseware went live through the leader's signature, and is registered.
    public = Resource.objects.get(school__slug="yizhong", live=True)
    assert RegisterEntry.objects.filter(content_type__app_label="resources",
                                        object_id=str(public.pk)).exists()
    # Unapproved ones are still with the web administrator.
    assert Resource.objects.filter(school__slug="yizhong", approved_at=None).count() == 3
