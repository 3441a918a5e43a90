"""Issue 17 finding 1: a teacher who replaces their live resource's file does not change
what readers download; the leader's next approval of the resource does."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import blank_pdf
from tests.resources.test_public_listing import (
    approve,
    download_url,
    file_resource,
    public_get,
)


def test_a_replaced_resource_file_is_not_what_readers_download(client, network, semester):
    resource = approve(network, file_resource(network, semester))
    item = resource.files.select_related("document").get()
    signed_url = download_url(resource)
    document = item.document
    client.force_login(network.users["a_teacher"])
    response = client.post(reverse("wagtaildocs:edit", args=[document.pk]), {
        "title": document.title, "collection": document.collection_id,
        "file": SimpleUploadedFile("替换.pdf", b"%PDF-1.4 never signed")})
    assert response.status_code == 302, response.status_code
    document.refresh_from_db()
    for url in (signed_url, reverse("resource_file", args=[item.pk, document.filename])):
        download = public_get(client, network, url)
        assert download.status_code == 200, url
        assert b"".join(download.streaming_content) == blank_pdf()
        assert "never signed" not in download["Content-Disposition"]
