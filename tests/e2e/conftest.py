"""Browser tests: Debian's chromium driven by Playwright against pytest-django's live server.

Playwright's sync API runs an asyncio event loop in the test thread, so Django's
async-unsafe guard would refuse ORM calls made by the tests and fixtures; the
tests are plain synchronous code, so the guard is switched off for this package.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="package", autouse=True)
def _allow_orm_beside_playwrights_event_loop():
    """Switch the guard off for this package only; restored when the package is done."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


# Where a chromium may be: RFI_CHROMIUM first (a path), then these names on PATH, then
# the browser Playwright downloaded (`playwright install chromium`).
CHROMIUM_ENV = "RFI_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _playwright_chromium() -> str | None:
    """The chromium of `playwright install chromium`, when it has been downloaded."""
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            path = playwright.chromium.executable_path
    except Exception:  # noqa: BLE001 - no Playwright, no driver, no browser: not found
        return None
    return path if path and Path(path).exists() else None


def find_chromium() -> tuple[str | None, str]:
    """The chromium to drive, and where it was looked for (for a skip's reason).

    ``RFI_CHROMIUM`` wins when set (a path or a name on PATH); otherwise the first of
    ``CHROMIUM_NAMES`` on PATH, otherwise Playwright's own download.
    """
    override = os.environ.get(CHROMIUM_ENV)
    if override:
        found = shutil.which(override) or (override if Path(override).is_file() else None)
        return found, f"{CHROMIUM_ENV}={override}"
    for name in CHROMIUM_NAMES:
        if found := shutil.which(name):
            return found, ", ".join(CHROMIUM_NAMES)
    looked = f"{', '.join(CHROMIUM_NAMES)} on PATH, Playwright's own chromium"
    return _playwright_chromium(), looked


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "e2e"
PASSWORD = "e2e-korrekt-hest-2026"
E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Every test in tests/e2e carries the e2e marker, whatever file it lives in."""
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="package")
def e2e_browser(django_db_setup, _allow_orm_beside_playwrights_event_loop):
    """One headless chromium for this package; skipped without it, but never on CI.

    Package scope: Playwright's event loop stops when the e2e tests are done, so the
    rest of the suite runs with Django's async-safety guard on.
    """
    chromium, looked = find_chromium()
    if chromium is None:
        reason = (
            f"no chromium found ({looked}): install one (Debian: apt-get install chromium) or"
            f" set {CHROMIUM_ENV} to its path to run the e2e tests"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def console_errors() -> list[str]:
    """Console errors and uncaught page errors of the test's page (CSP violations land here)."""
    return []


@pytest.fixture
def e2e_page(e2e_browser, live_server, transactional_db, console_errors):
    """A fresh browser context (no cookies), pointed at the live server.

    The browser asks for English (en-US, headless chromium's default): the site must
    still answer in Danish until the user picks English with the language switch.
    """
    context = e2e_browser.new_context(
        base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on(
        "console",
        lambda message: console_errors.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    yield page
    context.close()


@pytest.fixture
def artifacts_dir() -> Path:
    """test-artifacts/e2e under the project root (gitignored), for screenshots."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def regions(transactional_db):
    """The collaboration's regions and partner bodies from settings.COLLABORATION_FILE."""
    from django.conf import settings

    from rfi.models import Region
    from rfi.services import collaboration_load

    collaboration_load(path=settings.COLLABORATION_FILE)
    return {region.code: region for region in Region.objects.all()}


@pytest.fixture
def officer(regions):
    """A procurement officer in Region Midtjylland (RM)."""
    from django.contrib.auth import get_user_model

    from rfi.models import Membership

    user = get_user_model().objects.create_user(username="e2e-rm-officer", password=PASSWORD)
    Membership.objects.create(user=user, region=regions["RM"], role=Membership.Role.OFFICER)
    return user


@pytest.fixture
def log_in():
    """Log in through the login form, filled by its Danish labels."""

    def submit(page, username: str, password: str = PASSWORD) -> None:
        page.goto("/login/")
        main = page.get_by_role("main")
        main.get_by_label("Brugernavn").fill(username)
        main.get_by_label("Adgangskode").fill(password)
        main.get_by_role("button", name="Log ind").click()

    return submit


# Every table's caption (its <caption>, or the element its aria-labelledby names) whose
# text reaches past what can be seen: the window, or a scrolling box around the caption
# (a caption inside a wide table's .overflow-auto box scrolls away with the table).
# Visually hidden captions (1 px) are left out: they are not there to be seen.
CAPTIONS_CUT_OFF = """() => [...document.querySelectorAll('table')].map(table => {
  const ids = (table.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
  const label = table.caption || (ids.length ? document.getElementById(ids[0]) : null);
  if (!label) return null;
  const box = label.getBoundingClientRect();
  if (box.width <= 1 || box.height <= 1) return null;
  let left = 0, right = window.innerWidth;
  for (let a = label.parentElement; a; a = a.parentElement) {
    if (getComputedStyle(a).overflowX === 'visible') continue;
    const seen = a.getBoundingClientRect();
    left = Math.max(left, seen.left);
    right = Math.min(right, seen.right);
  }
  const range = document.createRange();
  range.selectNodeContents(label);
  const lines = [...range.getClientRects()].filter(r => r.width > 0);
  const from = Math.min(...lines.map(r => r.left)), to = Math.max(...lines.map(r => r.right));
  if (from >= left - 1 && to <= right + 1) return null;
  return `${label.textContent.trim().slice(0, 60)} [text ${Math.round(from)}–${Math.round(to)}`
         + ` px, visible ${Math.round(left)}–${Math.round(right)} px]`;
}).filter(Boolean)"""


def captions_cut_off(page) -> list[str]:
    """The captions of the page's tables whose text is not all in sight (see above)."""
    return page.evaluate(CAPTIONS_CUT_OFF)
