"""Issue 18, finding 9: bad input to API v3 and the admin gets a clear error, never a 500.

API answers are RFC 7807 problems in Chinese naming the field at fault; nothing is written.
"""


import pytest
from wagtail.models import APIToken
from wagtail.search import index

from tests.conftest import make_article, make_document

A_HOST = {"HTTP_HOST": "jia.test"}


def bearer(user) -> dict[str, str]:
    _, token = APIToken.create_token(user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {token}", **A_HOST}


@pytest.fixture
def api_client(client):
    client.raise_request_exception = False  # a server error is an answer to look at here
    return client


@pytest.fixture
def token(network):
    return bearer(network.users["a_administrator"])


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/problem+json", response["Content-Type"]
    return response.json()


# --- search --------------------------------------------------------------------------------

@pytest.fixture
def indexed(network):
    article = make_article(network.column(network.school_a, "news"), "开学典礼")
    for obj in (article, make_document(network.school_a, "校历")):
        index.insert_or_update_object(obj)
    return article


@pytest.mark.parametrize("query", ['"', 'a"b', '""', "   ", '"开学'])
@pytest.mark.parametrize("path", ["/api/v3/pages/", "/api/v3/documents/"])
def test_api_search_with_quotes_or_only_spaces_answers(api_client, indexed, token, path, query):
    response = api_client.get(path, {"search": query}, **token)
    assert response.status_code == 200, response.content[:300]
    if path == "/api/v3/pages/" and "开" in query:
        assert indexed.pk in {item["id"] for item in response.json()["items"]}


@pytest.mark.parametrize("path", ["/admin/documents/", "/admin/images/", "/admin/pages/search/"])
def test_admin_search_with_a_quote_answers(api_client, network, indexed, path):
    api_client.force_login(network.users["a_administrator"])
    response = api_client.get(path, {"q": '"'})
    assert response.status_code == 200
