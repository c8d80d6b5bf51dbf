#!/usr/bin/env python3
"""The README's two commands, with nothing but Python 3.11+ installed.

    python3 dev.py run    # virtual env, install, migrate, seed demo data, serve :8000
                          # with a Celery worker beside it (uploads run in the background)
    python3 dev.py test   # virtual env, install test tools, run the whole suite

Extra arguments after ``test`` go to pytest (e.g. ``python3 dev.py test -k cpv``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def ensure_environment(requirements: str) -> None:
    """Create .venv and install a requirements file, only when it changed since last time."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by an older python3
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"Creating the virtual environment in {VENV} …")
        venv.EnvBuilder(with_pip=True).create(VENV)
    files = [ROOT / "requirements.txt", ROOT / requirements]
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()
    stamp = VENV / f".installed-{requirements}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"Installing {requirements} …")
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-r", str(ROOT / requirements)], check=True)
    stamp.write_text(digest)


def manage(*args: str, env: dict | None = None) -> None:
    subprocess.run([str(PYTHON), str(ROOT / "manage.py"), *args], check=True, cwd=ROOT, env=env)


def compile_messages() -> None:
    # The compiled catalogues are committed; recompile when gettext is there.
    if shutil.which("msgfmt"):
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
    manage("migrate", "--no-input", "-v1")
    manage("seed_demo")  # eager: the demo data is there before the site starts
    address = args[0] if args else "127.0.0.1:8000"
    env = background_environment()
    worker = start_worker(env)
    print(f"\nThe site runs at http://{address}/ (Ctrl+C stops it and the worker).\n")
    try:
        manage("runserver", address, env=env)
    finally:
        stop(worker)


def test(args: list[str]) -> int:
    ensure_environment("requirements-dev.txt")
    compile_messages()
    database = os.environ.get("DATABASE_URL", "SQLite (embedded default)")
    print(f"Running the whole test suite against {database.split('@')[-1]}")
    command = [str(PYTHON), "-m", "pytest", "-p", "no:cacheprovider", *args]
    return subprocess.run(command, cwd=ROOT).returncode


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in {"run", "test", "install"}:
        print(__doc__)
        return 2
    command, rest = sys.argv[1], sys.argv[2:]
    if command == "run":
        run(rest)
        return 0
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
