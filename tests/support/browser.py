"""What several browser tests do alike (no tests here)."""

from __future__ import annotations

from tests.support import factories

# axe-core impacts that fail a test; "minor" and "moderate" ones are printed only.
BLOCKING = ("serious", "critical")
_axe = None


def violations(page, name: str) -> list[str]:
    """Run axe on the page as it is; the blocking violations, one line per rule."""
    global _axe
    if _axe is None:  # imported here: only the browser suite needs axe (and Playwright)
        from axe_playwright_python.sync_playwright import Axe

        _axe = Axe()
    found = _axe.run(page).response["violations"]
    blocking = []
    for violation in found:
        nodes = [", ".join(node["target"]) for node in violation["nodes"]][:5]
        line = f"{name}: [{violation['impact']}] {violation['id']}: {violation['help']} at {nodes}"
        if violation["impact"] in BLOCKING:
            blocking.append(line)
        else:
            print("axe, not blocking:", line)
    return blocking


def sign_in(page, email: str, password: str = factories.PASSWORD) -> None:
    """Sign in on the staff sign-in page; fails with the page's text when refused."""
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.locator("main form #submit").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.locator("main").inner_text()
