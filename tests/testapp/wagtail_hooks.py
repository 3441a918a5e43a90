import datetime
import os

from wagtail import hooks
from wagtail.snippets.models import register_snippet

from cms.jobs.schedule import Job
from tests.testapp.models import Notice

register_snippet(Notice)


@hooks.register("register_scheduled_jobs")
def crash_test_jobs():
    """A job every CMS_TEST_TICK_SECONDS seconds, for the scheduler's crash tests (their
    processes set it; nothing is added otherwise)."""
    seconds = os.environ.get("CMS_TEST_TICK_SECONDS")
    if not seconds:
        return []
    return [Job("test_tick", "测试：计数", every=datetime.timedelta(seconds=float(seconds)),
                command=("jobs_tick", os.environ["CMS_TEST_TICK_FILE"]))]
