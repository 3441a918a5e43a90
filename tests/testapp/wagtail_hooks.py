from wagtail.snippets.models import register_snippet

from tests.testapp.models import Notice

register_snippet(Notice)
