"""The README's screenshots: each role's home page and the public portal, desktop and phone.

    python3 dev.py screenshots          # seeds the demo data first, then runs this
    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--database URL]

Serves the site from the demo data (``runserver`` on a free local port, the development
database or ``--database``), logs in through the login form as each demo role (officer,
UFO member, procurement chief of Region Midtjylland, and the secretariat) and photographs
the home page, and the public portal (/udbud/) without logging in, at 1,366 and 390 px
wide, in Danish. The PNGs are reduced to 64 colours (Pillow) so that they stay small
enough to keep in the repository. Chromium is found as the browser tests find it
(RFI_CHROMIUM, chromium on PATH, Playwright's own).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM_ARGS, find_chromium  # noqa: E402

PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-rfi-2026")
# (file name, demo user or None for a visitor, page)
SHOTS = (
    ("officer", "rm-officer", "/"),
    ("ufo", "rm-ufo", "/"),
    ("chief", "rm-chief", "/"),
    ("secretariat", "sekretariat", "/"),
    ("public", None, "/udbud/"),
)
WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}
COLOURS = 64


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(port: int, env: dict) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit("runserver stopped: run `python3 dev.py run` once") from None
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("the site did not answer within 60 s")


def _shrink(path: Path) -> None:
    """64 colours: a page of text and flat colours keeps its look at a third of the size."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def take(base_url: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    chromium, looked = find_chromium()
    if chromium is None:
        raise SystemExit(f"no chromium found ({looked}); set RFI_CHROMIUM to its path")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        for name, username, url in SHOTS:
            for width_name, (width, height) in WIDTHS.items():
                context = browser.new_context(
                    base_url=base_url, viewport={"width": width, "height": height}
                )
                page = context.new_page()
                if username:
                    page.goto("/login/")
                    main = page.get_by_role("main")
                    main.get_by_label("Brugernavn").fill(username)
                    main.get_by_label("Adgangskode").fill(PASSWORD)
                    main.get_by_role("button", name="Log ind").click()
                    page.wait_for_url(lambda address: "/login/" not in address)
                page.goto(url)
                page.wait_for_load_state("networkidle")
                path = out / f"{name}-{width_name}.png"
                page.screenshot(path=str(path), animations="disabled")
                _shrink(path)
                written.append(path)
                sys.stdout.write(f"  {path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB\n")
                context.close()
        browser.close()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--database", help="DATABASE_URL of the demo data (default: dev's)")
    args = parser.parse_args()
    env = {**os.environ, "DEBUG": "1"}
    if args.database:
        env["DATABASE_URL"] = args.database
    port = _free_port()
    server = _serve(port, env)
    try:
        written = take(f"http://127.0.0.1:{port}", Path(args.out))
    finally:
        server.terminate()
        server.wait(timeout=10)
    total = sum(path.stat().st_size for path in written) // 1024
    sys.stdout.write(f"{len(written)} screenshots, {total} KB, in {args.out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
