"""Issue 18, finding 9: API v3 fuzzed from its own OpenAPI document (schemathesis, through the
Django app over WSGI), anonymously and with a web administrator's token. No answer may be a
server error, and every status and content type answered must be one the document lists.

A few examples per operation keep CI under a minute; ``API_FUZZ_EXAMPLES=30`` runs the
issue's fuller fuzz by hand.
"""

import json
import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance
from wagtail.models import APIToken

HOST = "jia.test"
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "3"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]
FUZZ = hypothesis_settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


def load_schema():
    """The document /api/v3/openapi.json serves (cms.api.openapi_json), built in the process:
    schemathesis' fixture-loaded schemas do not run under pytest 9, and this one needs no
    database to be built. Requests go to the Django app over WSGI."""
    from ninja.responses import NinjaJSONEncoder

    from cms.api import document_problems
    from cms.urls import api

    document = document_problems(api.get_openapi_schema(path_params={}))
    # As served: JSON (the document holds Django's lazy translations).
    loaded = schemathesis.openapi.from_dict(json.loads(json.dumps(document,
                                                                  cls=NinjaJSONEncoder)))
    loaded.app = get_wsgi_application()
    # No snippet type is exposed through API v3 here: the document's {type} admits only "",
    # so no request to these operations can be made.
    return loaded.exclude(path_regex=r"^/api/v3/snippets/")


schema = load_schema()


@pytest.fixture(autouse=True)
def keep_the_tests_connection():
    """The app is called over WSGI, not through Django's test client, so each request's end
    would close the database connection the test's transaction runs on (PostgreSQL; an
    in-memory SQLite connection is never closed). Disconnected as the test client does."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def no_token_throttling(settings):
    """Schemathesis sends malformed Authorization headers too; after ten, the address would
    get 429 for the rest of the operation's examples (documented, but nothing then tested)."""
    settings.CMS_API_TOKEN_FAILURE_LIMIT = 1_000_000


@pytest.fixture
def token_headers(network):
    _, token = APIToken.create_token(user=network.users["a_administrator"], name="fuzz")
    return {"Host": HOST, "Authorization": f"Bearer {token}"}


@schema.parametrize()
@FUZZ
def test_anonymous_requests_get_no_server_error(case, network):
    case.call_and_validate(headers={"Host": HOST}, checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_token_requests_get_no_server_error(case, token_headers):
    case.call_and_validate(headers=token_headers, checks=CHECKS)
