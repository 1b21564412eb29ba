"""A citizen votes in a real browser, with JavaScript on, off, and with the keyboard alone,
gets a receipt with its QR code, and finds the ballot on the public board once sealed: through
the QR code's address (the code after "#", sent by our script with JavaScript on, typed by hand
without) and through the board's form, with the code in no address the browser requests.

Pages are in Brazilian Portuguese (the app's default), so the checks read element ids, hrefs,
data attributes and amounts rather than English text.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from opdigital.board import services as board
from opdigital.cycles.models import Cycle
from opdigital.extensions import db
from opdigital.voting.receipts import normalise_receipt
from opdigital.voting.views.qr import receipt_lookup_url
from tests.support import voting as vs

pytestmark = pytest.mark.browser

BIRTH = vs.BIRTH.isoformat()  # what <input type="date"> takes
RECEIPT_CODE = re.compile(r"^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$")


def _remaining(page) -> str:
    return page.locator("[data-total-remaining]").inner_text()


def _chosen(page) -> str:
    return page.locator("[data-total-chosen]").inner_text()


def _digits_after_colon(text: str) -> str:
    return text.rsplit(":", 1)[1].strip()


def identify(page, election, number: str, shoot=None) -> None:
    """From the home page to the ballot: cycle page, "Votar", título and birth date."""
    page.goto("/")
    page.locator(f'a[href="/ciclos/{election.slug}"]').first.click()
    page.wait_for_url(f"**/ciclos/{election.slug}")
    if shoot:
        shoot(page, "cycle")
    page.locator(f'a.cta[href="/ciclos/{election.slug}/votar"]').click()
    page.wait_for_url(f"**/ciclos/{election.slug}/votar")
    page.fill("#titulo", vs.pretty(number))
    page.fill("#birth_date", BIRTH)
    page.locator("form.vote-form button[type=submit]").click()
    page.wait_for_url(f"**/ciclos/{election.slug}/votar/cedula")
    assert page.locator("#ballot-form").is_visible()


def confirm_and_read_receipt(page, election) -> str:
    """On the review page: confirm; on the receipt page: the code, with its QR code."""
    page.locator(f'form[action="/ciclos/{election.slug}/votar/revisao"] button').click()
    page.wait_for_url(f"**/ciclos/{election.slug}/votar/comprovante")
    code = page.locator(".receipt-code").inner_text().split()[-1]
    assert RECEIPT_CODE.match(code), code
    qr = page.locator(".receipt-qr svg")
    assert qr.count() == 1
    assert code in qr.locator("title").text_content()  # its text alternative names the code
    box = qr.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100  # scannable, not a speck
    check_printed_receipt(page, code)
    return code


def check_printed_receipt(page, code: str) -> None:
    """Printed, the receipt is the code, its QR code and their explanation: no site header,
    footer, steps, buttons or running totals on the paper."""
    page.emulate_media(media="print")
    try:
        for hidden in (".site-header", ".site-footer", ".vote-steps", ".actions"):
            assert not page.locator(hidden).first.is_visible(), hidden
        assert page.locator(".receipt-code").is_visible()
        assert code in page.locator(".receipt-code").inner_text()
        box = page.locator(".receipt-qr svg").bounding_box()
        assert box and box["width"] > 150  # 5 cm at 96 dpi: scannable from paper
    finally:
        page.emulate_media(media="screen")


def check_review(page, election, chosen: list[int]) -> None:
    rows = page.locator("tbody tr").all_inner_texts()
    assert len(rows) == len(chosen)
    for index in chosen:
        assert any(election.codes[index] in row for row in rows), rows


def record_requests(page) -> list[str]:
    """Every URL the page requests, and every Referer it sends, from now on."""
    seen: list[str] = []

    def note(request) -> None:
        seen.append(request.url)
        seen.append(request.headers.get("referer", ""))

    page.on("request", note)
    return seen


def open_qr_address(page, base: str, election, code: str, *, scripts: bool) -> None:
    """Open the address the receipt's QR code holds; its board entry, whatever the browser."""
    address = receipt_lookup_url(base, election.slug, code)
    lookup_page = f"{base}/ciclos/{election.slug}/comprovante"
    assert address == f"{lookup_page}#{code}"
    page.goto("about:blank")  # as a camera app opens it: a new page, not a jump within one
    page.goto(address)
    if scripts:
        # Our script sends the code after "#" with the form (POST), and drops it from the
        # address bar and the history first.
        page.locator("#receipt-status").wait_for()
        assert page.url == lookup_page
    else:
        # The same address shows the form, and says to type the code printed under the QR code.
        assert page.locator("#receipt-status").count() == 0
        assert page.locator("#qr-instructions").is_visible()
        page.fill("#codigo", code)
        with page.expect_navigation():
            page.locator(".lookup-form button[type=submit]").click()
        assert page.url == lookup_page


def seal_now(app, slug: str) -> None:
    """Seal the one pending ballot now, as the close does (alone, it would wait for more)."""
    with app.app_context():
        cycle = db.session.scalar(sa.select(Cycle).where(Cycle.slug == slug))
        assert board.seal(cycle) == 1
        db.session.remove()


def check_receipt_on_board(
    page, base: str, runner, election, code: str, chosen, *, scripts: bool
) -> None:
    """The receipt's QR address: pending first; after sealing, the entry and the board head;
    then the board's form. No address requested, and no Referer, ever holds the code."""
    requested = record_requests(page)
    open_qr_address(page, base, election, code, scripts=scripts)
    status = page.locator("#receipt-status")
    assert status.get_attribute("data-status") == "pending"
    recorded = page.locator("#choices-title + ul.choices li").all_inner_texts()
    assert sorted(r.split()[0] for r in recorded) == sorted(election.codes[i] for i in chosen)
    if scripts:  # nor does the history keep the address with the code: one step back is
        page.go_back()  # the page before the QR code was opened
        assert page.url == "about:blank"

    seal_now(runner.app, election.slug)
    open_qr_address(page, base, election, code, scripts=scripts)
    assert status.get_attribute("data-status") == "sealed"
    assert page.locator("#entry-seq").inner_text() == "1"
    entry_hash = page.locator("#entry-hash").inner_text()
    recorded = page.locator("#choices-title + ul.choices li").all_inner_texts()
    assert sorted(r.split()[0] for r in recorded) == sorted(election.codes[i] for i in chosen)

    # The board page shows the same entry as its head, and finds the code by its form.
    page.locator(".cycle-kind a[href$='/quadro']").click()
    page.wait_for_url(f"**/ciclos/{election.slug}/quadro")
    assert page.locator("#board-head-seq").inner_text() == "1"
    assert page.locator("#board-head-hash").inner_text() == entry_hash
    page.fill("#codigo", code.lower().replace("-", ""))  # as people may type it
    with page.expect_navigation():
        page.locator(".lookup-form button[type=submit]").click()
    assert page.url.endswith(f"/ciclos/{election.slug}/comprovante")
    assert page.locator("#entry-hash").inner_text() == entry_hash

    leaks = [url for url in requested if normalise_receipt(code) in normalise_receipt(url)]
    assert requested and leaks == []


def test_citizen_votes_with_javascript_on(page, live_server, runner, election, shoot):
    page.goto("/")
    shoot(page, "home")
    identify(page, election, election.numbers[0], shoot)
    shoot(page, "ballot")
    assert "3.500.000,00" in _remaining(page)
    assert _digits_after_colon(_remaining(page)) == "3"  # choices left

    # The counter follows each pick at once, without a request.
    page.check(f"#p-{election.ids[0]}")
    assert "2.500.000,00" in _remaining(page)
    assert _digits_after_colon(_remaining(page)) == "2"
    assert _digits_after_colon(_chosen(page)) == "1"
    page.check(f"#p-{election.ids[4]}")  # the R$ 2.000.000,00 one
    assert "500.000,00" in _remaining(page)
    assert _digits_after_colon(_chosen(page)) == "2"
    page.check(f"#p-{election.ids[1]}")  # over the budget now: the counter says by how much
    assert "500.000,00" in _remaining(page)
    assert _digits_after_colon(_chosen(page)) == "3"
    over = page.locator("#ballot-form").get_attribute("data-t-over-budget").split("{")[0]
    assert _remaining(page).startswith(over)
    page.uncheck(f"#p-{election.ids[1]}")
    assert not _remaining(page).startswith(over)
    assert _digits_after_colon(_chosen(page)) == "2"

    page.locator("button[name=action][value=review]").click()
    page.wait_for_url(f"**/ciclos/{election.slug}/votar/revisao")
    check_review(page, election, [0, 4])
    shoot(page, "review")
    code = confirm_and_read_receipt(page, election)
    shoot(page, "receipt")
    # Shown once: coming back to the receipt page does not show the code again.
    page.reload()
    assert page.locator(".receipt-code").count() == 0

    check_receipt_on_board(page, live_server, runner, election, code, [0, 4], scripts=True)
    shoot(page, "board-receipt")
    page.goto(f"/ciclos/{election.slug}/quadro")
    shoot(page, "board")


def test_citizen_votes_with_javascript_off(new_page, live_server, runner, election):
    page = new_page(java_script_enabled=False)
    identify(page, election, election.numbers[1])
    before = _remaining(page)
    page.check(f"#p-{election.ids[2]}")
    page.check(f"#p-{election.ids[3]}")
    assert _remaining(page) == before  # no script: nothing recounts in the page

    # "Check my choices" asks the server for the same figures, keeping the picks.
    page.locator("button[name=action][value=check]").click()
    page.wait_for_url(f"**/ciclos/{election.slug}/votar/cedula")
    assert "1.500.000,00" in _remaining(page)
    assert _digits_after_colon(_chosen(page)) == "2"
    assert page.is_checked(f"#p-{election.ids[2]}") and page.is_checked(f"#p-{election.ids[3]}")

    page.locator("button[name=action][value=review]").click()
    page.wait_for_url(f"**/ciclos/{election.slug}/votar/revisao")
    check_review(page, election, [2, 3])
    code = confirm_and_read_receipt(page, election)
    check_receipt_on_board(page, live_server, runner, election, code, [2, 3], scripts=False)


def test_a_refused_ballot_is_explained_without_javascript(new_page, election):
    """One choice where at least two are needed: the page says so and casts nothing."""
    page = new_page(java_script_enabled=False)
    identify(page, election, election.numbers[2])
    page.check(f"#p-{election.ids[0]}")
    page.locator("button[name=action][value=review]").click()
    problems = page.locator("#ballot-problems")
    assert problems.get_attribute("role") == "alert"
    assert problems.locator("li").count() >= 1
    assert page.is_checked(f"#p-{election.ids[0]}")
    assert "/votar/cedula" in page.url


def _tab_to(page, selector: str, limit: int = 120) -> int:
    """Press Tab until the focused element matches `selector`; how many presses it took.

    Every element focused on the way must show a visible focus ring (site.css draws a 3px
    outline on :focus-visible; a browser's thin default ring does not count).
    """
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """(selector) => {
                const el = document.activeElement;
                const style = getComputedStyle(el);
                const ring = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
                return {match: el.matches(selector), ring: ring, tag: el.outerHTML.slice(0, 80)};
            }""",
            selector,
        )
        assert focused["ring"], f"no visible focus on {focused['tag']}"
        if focused["match"]:
            return presses
    raise AssertionError(f"{selector} not reached with {limit} presses of Tab")


def test_the_ballot_with_the_keyboard_alone(page, election, shoot):
    identify(page, election, election.numbers[2])
    page.evaluate("document.activeElement && document.activeElement.blur()")
    first, second = (f"#p-{election.ids[i]}" for i in (1, 3))
    _tab_to(page, first)
    page.keyboard.press("Space")
    assert page.is_checked(first)
    assert "2.500.000,00" in _remaining(page)  # the live counter follows the keyboard too
    _tab_to(page, second)
    page.keyboard.press("Space")
    assert page.is_checked(second)
    shoot(page, "ballot-keyboard")
    _tab_to(page, "button[name=action][value=review]")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/ciclos/{election.slug}/votar/revisao")
    check_review(page, election, [1, 3])
    _tab_to(page, f'form[action="/ciclos/{election.slug}/votar/revisao"] button')
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/ciclos/{election.slug}/votar/comprovante")
    assert RECEIPT_CODE.match(page.locator(".receipt-code").inner_text().split()[-1])
