"""The accessibility audit of one HTML page: landmarks, one h1, a label on every field, alt text.

`tests/test_accessibility.py` crawls every page with it; the page tests of other areas run it on
the pages they render.
"""

from __future__ import annotations

from html.parser import HTMLParser

LABELLED_INPUTS = {"input", "select", "textarea"}
UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class PageAudit(HTMLParser):
    """Collects what the checks need from one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.h1 = 0
        self.html_lang: str | None = None
        self.label_for: set[str] = set()
        self.fields: list[dict] = []
        self.open_labels = 0
        self.images_without_alt = 0
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append(tag)
        if tag == "html":
            self.html_lang = attributes.get("lang")
        elif tag == "h1":
            self.h1 += 1
        elif tag == "label":
            self.open_labels += 1
            if attributes.get("for"):
                self.label_for.add(attributes["for"])
        elif tag in LABELLED_INPUTS and attributes.get("type") not in UNLABELLED_TYPES:
            self.fields.append(attributes | {"_tag": tag, "_in_label": self.open_labels > 0})
        elif tag == "img" and "alt" not in attributes:
            self.images_without_alt += 1
        elif tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])

    def handle_endtag(self, tag):
        if tag == "label":
            self.open_labels = max(0, self.open_labels - 1)

    def problems(self) -> list[str]:
        found = []
        if not self.html_lang:
            found.append("no lang on <html>")
        for landmark in ("header", "nav", "main", "footer"):
            if landmark not in self.tags:
                found.append(f"no <{landmark}>")
        if self.h1 != 1:
            found.append(f"{self.h1} <h1> elements")
        for field in self.fields:
            labelled = (
                field["_in_label"]
                or field.get("id") in self.label_for
                or field.get("aria-label")
                or field.get("aria-labelledby")
            )
            if not labelled:
                found.append(f"unlabelled <{field['_tag']} name={field.get('name')!r}>")
        if self.images_without_alt:
            found.append(f"{self.images_without_alt} images without alt")
        return found


def page_problems(html: str) -> list[str]:
    """What the audit finds wrong on `html` (an empty list for an accessible page)."""
    page = PageAudit()
    page.feed(html)
    return page.problems()
