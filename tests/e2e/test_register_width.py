"""The publication register fits a 1280 px screen (issue 18, finding 6), in Chromium: long
titles, attachments and people's names wrap inside the table instead of widening the page."""

from django.urls import reverse

from tests.conftest import make_article, make_document
from tests.e2e.test_passkey_browser import log_in
from tests.shared import engine_independent

# Markup and layout do not depend on the database engine: checked once, in the SQLite suite
# (Chromium is most of the time these tests take).
pytestmark = engine_independent


def test_the_register_fits_1280_pixels(chromium, live_server, client, network):
    context, page = chromium
    teacher = network.users["a_teacher"]
    # A long login name with no name to show instead (names shown unbroken widen columns).
    teacher.username = "ouyang.xiaoyan.qinianji.yuwen"
    teacher.save(update_fields=["username"])
    document = make_document(network.school_a, "读书活动安排表",
                             filename="qinianji-dushu-huodong-anpai-biao-2026.pdf")
    for number in range(3):
        make_article(network.column(network.school_a, "teaching"),
                     f"七年级第{number}次读书交流活动暨校园文化艺术节系列活动安排的通知",
                     owner=teacher, attachments=[document])
    log_in(context, client, network.users["superuser"], live_server.url)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server.url + reverse("review_register"))
    page.wait_for_selector("table.review-register")
    widths = page.evaluate("""() => ({
        page: document.documentElement.scrollWidth,
        table: document.querySelector('table.review-register').getBoundingClientRect().right,
    })""")
    assert widths["page"] <= 1280 and widths["table"] <= 1280, widths
