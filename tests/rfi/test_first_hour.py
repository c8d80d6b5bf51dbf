"""A newcomer's first hour (issue 16 §8, §9): the README works as written, from a fresh clone.

The README's management commands are real and use the virtual environment's Python, the
login address and the demo users are near the top, the screenshots it shows exist, the
first install says what it does, and the browser tests find chromium wherever it is.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from django.core.management import get_commands

import dev
from rfi.models import Membership, Region
from rfi.services import DEMO_ROLE_SLUGS, demo_users_create
from tests.e2e import conftest as e2e_conftest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_management_command_in_the_readme_exists():
    # given
    mentioned = set(re.findall(r"manage\.py ([a-z_]+)", README))

    # when
    unknown = mentioned - set(get_commands())

    # then
    assert {"seed_demo", "fup_overview", "savings_report", "backup"} <= mentioned
    assert not unknown, f"the README names commands that do not exist: {sorted(unknown)}"


def test_the_readme_runs_manage_py_with_the_virtual_environments_python():
    # given: every "python manage.py" that is meant to be typed as is
    commands = re.findall(r"(\S*python3?) manage\.py [a-z_]+", README)
    inside_docker = README.count("docker compose exec web python manage.py")

    # then: the venv's python, except inside the container (its python has Django)
    bare = [c for c in commands if c.lstrip("`") in {"python", "python3"}]
    assert len(bare) == inside_docker, bare
    assert commands.count(".venv/bin/python") + commands.count("`.venv/bin/python") >= 15
    assert "No module named 'django'" in README


def test_the_login_address_and_the_demo_users_are_near_the_top():
    top = "\n".join(README.splitlines()[:60])

    assert "http://127.0.0.1:8000/login/" in top
    assert "demo-rfi-2026" in top
    for username in ("rm-officer", "rm-ufo", "rm-chief", "sekretariat"):
        assert f"`{username}`" in top, username


@pytest.mark.django_db
def test_the_readmes_demo_users_are_the_ones_seed_demo_makes(regions):
    # when
    made = {user.username for user in demo_users_create(password="x")}

    # then: every username the README's table names is a demo user, one per role and region
    table = README.split("| role | demo users", 1)[1].split("\n\n", 1)[0]
    named = set(re.findall(r"`([a-z]+-[a-z]+|sekretariat)`", table))
    assert named <= made, named - made
    active = Region.objects.filter(active=True).count()
    assert len(made) == 1 + active * len(DEMO_ROLE_SLUGS)
    assert Membership.objects.filter(user__username="rsj-chief").exists()


def test_the_readme_shows_every_screenshot_and_each_exists():
    # given
    shown = re.findall(r'src="(docs/screenshots/[^"]+\.png)"', README)

    # then: four roles and the portal, desktop and phone, kept small
    names = {Path(path).stem for path in shown}
    roles = ("officer", "ufo", "chief", "secretariat", "public")
    assert names == {f"{role}-{width}" for role in roles for width in ("desktop", "phone")}
    sizes = [(ROOT / path).stat().st_size for path in shown]
    assert all(size > 1000 for size in sizes)
    assert sum(sizes) < 800 * 1024, sum(sizes)
    assert "python3 dev.py screenshots" in README


def test_the_install_prints_what_it_does():
    # given: the lines pip prints during a first install
    pip_output = [
        "Collecting Django==5.2.9 (from -r requirements.txt (line 2))",
        "  Downloading django-5.2.9-py3-none-any.whl.metadata (4.1 kB)",
        "Collecting celery==5.5.3",
        "Installing collected packages: sqlparse, asgiref, Django, celery",
        "Successfully installed Django-5.2.9 asgiref-3.9 celery-5.5.3 sqlparse-0.5",
    ]

    # when
    shown = [line for line in map(dev.pip_progress, pip_output) if line is not None]

    # then: one line per package, the install step, and the count
    assert shown == [
        "    Django==5.2.9",
        "    celery==5.5.3",
        "    unpacking and installing them …",
        "    installed 4 packages",
    ]


def test_ci_installs_with_uv_and_falls_back_to_pip_when_uv_fails(monkeypatch, tmp_path, capsys):
    # given: a fresh environment, CI asking for uv (DEV_INSTALLER=uv, as .ci/run sets it)
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    monkeypatch.setattr(dev, "VENV", venv)
    monkeypatch.setattr(dev, "PYTHON", venv / "bin" / "python")
    (venv / "bin" / "python").write_text("")
    monkeypatch.setenv("DEV_INSTALLER", "uv")
    commands, pip_installs = [], []
    monkeypatch.setattr(dev, "_pip_install", pip_installs.append)

    class Done:
        def __init__(self, code):
            self.returncode = code

    def run_ok(command, **kwargs):
        commands.append(command)
        return Done(0)

    # when uv installs the requirements
    monkeypatch.setattr(dev.subprocess, "run", run_ok)
    dev.ensure_environment("requirements-dev.txt")

    # then: uv was fetched with pip and ran on the pinned file; pip did not install them
    assert commands[0][-1] == "uv"
    assert commands[1][:3] == [str(venv / "bin" / "uv"), "pip", "install"]
    assert commands[1][-1].endswith("requirements-dev.txt")
    assert pip_installs == []
    assert "installed by uv" in capsys.readouterr().out
    assert (venv / ".installed-requirements-dev.txt").exists()

    # when uv fails on a changed file, pip installs it as it always did
    (venv / ".installed-requirements-dev.txt").unlink()
    monkeypatch.setattr(dev.subprocess, "run", lambda command, **kwargs: Done(1))
    dev.ensure_environment("requirements-dev.txt")
    assert pip_installs == ["requirements-dev.txt"]


def _fake_program(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_the_browser_tests_find_chromium_under_any_of_its_names(tmp_path, monkeypatch):
    # given: only "chromium-browser" on PATH (Ubuntu's name), no override
    _fake_program(tmp_path, "chromium-browser")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(e2e_conftest.CHROMIUM_ENV, raising=False)

    # when
    found, _ = e2e_conftest.find_chromium()

    # then
    assert found == str(tmp_path / "chromium-browser")


def test_rfi_chromium_overrides_what_is_on_path(tmp_path, monkeypatch):
    # given
    (tmp_path / "opt").mkdir()
    own = _fake_program(tmp_path / "opt", "chrome")
    _fake_program(tmp_path, "chromium")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv(e2e_conftest.CHROMIUM_ENV, str(own))

    # when
    found, looked = e2e_conftest.find_chromium()

    # then
    assert found == str(own)
    assert looked == f"RFI_CHROMIUM={own}"


def test_a_wrong_rfi_chromium_is_reported_not_replaced(tmp_path, monkeypatch):
    _fake_program(tmp_path, "chromium")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv(e2e_conftest.CHROMIUM_ENV, str(tmp_path / "nowhere"))

    found, looked = e2e_conftest.find_chromium()

    assert found is None
    assert "nowhere" in looked
