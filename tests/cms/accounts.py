"""Helpers for the account tests: Wagtail's account page as a person fills it in."""

from html.parser import HTMLParser

from django.urls import reverse


class FormValues(HTMLParser):
    """The values a browser would submit from a page's forms (text inputs, checked boxes and
    radios, selected options); files and buttons left out."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self._select: str | None = None
        self._first_option: str | None = None
        self._selected = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("file", "submit", "button", "image"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.values.setdefault(name, []).append(attrs.get("value", "on" if kind in (
                "checkbox", "radio") else ""))
        elif tag == "select" and name:
            self._select, self._first_option, self._selected = name, None, False
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in attrs:
                self.values.setdefault(self._select, []).append(value)
                self._selected = True

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            if not self._selected and self._first_option is not None:
                self.values[self._select] = [self._first_option]
            self._select = None


def form_values(html: str) -> dict[str, list[str]]:
    parser = FormValues()
    parser.feed(html)
    return parser.values


def change_own_password(client, *, old: str, new: str):
    """Post Wagtail's account page with the password panel filled in (the other panels as
    they are, plus the name and e-mail the page requires)."""
    url = reverse("wagtailadmin_account")
    page = client.get(url)
    assert page.status_code == 200
    data = form_values(page.content.decode())
    data.pop("csrfmiddlewaretoken", None)
    for field, value in (("name_email-first_name", "测"), ("name_email-last_name", "试"),
                         ("name_email-email", "someone@example.cn")):
        if not data.get(field) or not data[field][0]:
            data[field] = [value]
    data.update({"password-old_password": [old], "password-new_password1": [new],
                 "password-new_password2": [new]})
    return client.post(url, data)
