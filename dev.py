#!/usr/bin/env python3
"""The README's two commands, with nothing but Python 3.11+ installed.

    python3 dev.py run    # virtual env, install, migrate, seed demo data, serve :8000
                          # with a Celery worker beside it (uploads run in the background)
    python3 dev.py test   # virtual env, install test tools, run the whole suite
    python3 dev.py screenshots  # demo data, then docs/screenshots/*.png (needs chromium)

Extra arguments after ``test`` go to pytest (e.g. ``python3 dev.py test -k cpv``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def step(text: str) -> None:
    """One line per step, so a first install never sits silent for a minute."""
    print(f"==> {text}", flush=True)


def pip_progress(line: str) -> str | None:
    """The line of pip's output worth showing during an install (None: leave it out)."""
    line = line.strip()
    if line.startswith("Collecting "):
        return "    " + line.split()[1]
    if line.startswith("Installing collected packages"):
        return "    unpacking and installing them …"
    if line.startswith("Successfully installed"):
        return f"    installed {len(line.split()) - 2} packages"
    if line.startswith(("ERROR", "error:")):
        return line
    return None


def ensure_environment(requirements: str) -> None:
    """Create .venv and install a requirements file, only when it changed since last time."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by an older python3
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        step(f"Creating the virtual environment in {VENV} (a few seconds)")
        venv.EnvBuilder(with_pip=True).create(VENV)
    files = [ROOT / "requirements.txt", ROOT / requirements]
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()
    stamp = VENV / f".installed-{requirements}"
    if stamp.exists() and stamp.read_text() == digest:
        step(f"{requirements}: already installed in {VENV.name}")
        return
    step(f"Installing {requirements} into {VENV.name} (the first time takes a minute or two)")
    started = time.monotonic()
    if not (os.environ.get("DEV_INSTALLER") == "uv" and _uv_install(requirements)):
        _pip_install(requirements)
    stamp.write_text(digest)
    step(f"{requirements} installed in {time.monotonic() - started:.0f} s")


def _pip_install(requirements: str) -> None:
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar=off"]
    with subprocess.Popen(
        [*pip, "-r", str(ROOT / requirements)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        output = []
        for line in process.stdout:
            output.append(line)
            if (shown := pip_progress(line)) is not None:
                print(shown, flush=True)
    if process.returncode:
        sys.stdout.write("".join(output[-40:]))
        raise subprocess.CalledProcessError(process.returncode, pip)


def _uv_install(requirements: str) -> bool:
    """DEV_INSTALLER=uv (CI sets it): the same pinned requirements installed by uv, which
    fetches and unpacks in parallel (seconds instead of most of a minute). uv itself comes
    from PyPI into the virtual env. False when that fails: pip then installs as usual."""
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "--quiet", "uv"]
    if subprocess.run(pip, check=False, **quiet).returncode:
        return False
    uv = [str(VENV / "bin" / "uv"), "pip", "install", "--python", str(PYTHON)]
    done = subprocess.run([*uv, "-r", str(ROOT / requirements)], check=False, **quiet)
    if done.returncode:
        print("    uv could not install them; pip will", flush=True)
        return False
    print("    installed by uv", flush=True)
    return True


def manage(*args: str, env: dict | None = None) -> None:
    subprocess.run([str(PYTHON), str(ROOT / "manage.py"), *args], check=True, cwd=ROOT, env=env)


def compile_messages() -> None:
    # The compiled catalogues are committed; recompile when gettext is there.
    if shutil.which("msgfmt"):
        step("Compiling the Danish message catalogue")
        manage("compilemessages", "--ignore=.venv", "-v0")


DEV_DIR = ROOT / ".dev"
BROKER_FOLDER = DEV_DIR / "broker"


def background_environment(base: dict | None = None) -> dict:
    """The environment of `run`'s web server and worker: tasks go through a broker that needs
    no server (kombu's filesystem transport, files under .dev/broker/), as in production;
    results are files there too.

    A CELERY_BROKER_URL already set (e.g. Redis) is kept. Tests and CI never come here: they
    stay eager.
    """
    env = dict(os.environ if base is None else base)
    if not env.get("CELERY_BROKER_URL"):
        env["CELERY_BROKER_URL"] = "filesystem://"
        folder = Path(env.setdefault("CELERY_BROKER_FOLDER", str(BROKER_FOLDER)))
        # Results as files too (Celery's file:// backend): /healthz's worker ping is answered.
        env["CELERY_RESULT_BACKEND"] = f"file://{folder / 'results'}"
    return env


def worker_command() -> list[str]:
    """One Celery worker process (solo pool): imports and KPI refreshes run beside the site."""
    return [
        str(PYTHON),
        "-m",
        "celery",
        "-A",
        "rfi",
        "worker",
        "--pool=solo",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--hostname=dev@%h",
    ]


def start_worker(env: dict) -> subprocess.Popen:
    folder = Path(env.get("CELERY_BROKER_FOLDER", BROKER_FOLDER))
    for sub in ("queue", "control", "results"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(worker_command(), cwd=ROOT, env=env)


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """Stop the worker with the server: a warm shutdown, then a kill if it lingers."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run(args: list[str]) -> None:
    ensure_environment("requirements.txt")
    compile_messages()
    step("Creating or updating the database (migrate)")
    manage("migrate", "--no-input", "-v1")
    step("Loading the demo data: regions, CPV codes, users, plan, contracts, ledger (~1 min)")
    manage("seed_demo")  # eager: the demo data is there before the site starts
    address = args[0] if args else "127.0.0.1:8000"
    env = background_environment()
    worker = start_worker(env)
    print(f"\nThe site runs at http://{address}/ (Ctrl+C stops it and the worker).\n")
    try:
        manage("runserver", address, env=env)
    finally:
        stop(worker)


def screenshots(args: list[str]) -> int:
    """Seed the demo data and photograph each role's home page and the portal."""
    ensure_environment("requirements-dev.txt")
    compile_messages()
    step("Creating or updating the database (migrate)")
    manage("migrate", "--no-input", "-v0")
    step("Loading the demo data (idempotent; ~1 min the first time)")
    manage("seed_demo")
    step("Photographing the pages into docs/screenshots/")
    command = [str(PYTHON), str(ROOT / "scripts" / "screenshots.py"), *args]
    return subprocess.run(command, cwd=ROOT).returncode


def test(args: list[str]) -> int:
    ensure_environment("requirements-dev.txt")
    compile_messages()
    database = os.environ.get("DATABASE_URL", "SQLite (embedded default)")
    print(f"Running the whole test suite against {database.split('@')[-1]}")
    if "DATABASE_URL" not in os.environ:
        print(
            "On SQLite the tests that need PostgreSQL (the real-worker integration tests,"
            " concurrency, column lengths) are skipped with their reason; set"
            " DATABASE_URL=postgres://… to run them (README: The test suite)."
        )
    command = [str(PYTHON), "-m", "pytest", "-p", "no:cacheprovider", *args]
    return subprocess.run(command, cwd=ROOT).returncode


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in {"run", "test", "install", "screenshots"}:
        print(__doc__)
        return 2
    command, rest = sys.argv[1], sys.argv[2:]
    if command == "run":
        run(rest)
        return 0
    if command == "screenshots":
        return screenshots(rest)
    if command == "install":
        ensure_environment("requirements-dev.txt" if "--dev" in rest else "requirements.txt")
        return 0
    return test(rest)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
