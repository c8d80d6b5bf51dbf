#!/usr/bin/env python3
"""Deploy smoke test: the stack as docker-compose.yml and the Dockerfile describe it, without Docker.

1. Reads the Dockerfile and docker-compose.yml of the project (--root, default this checkout).
2. "Builds the image": copies the project into a temporary folder the way ``COPY . .`` does
   (leaving out what .dockerignore names) and runs the Dockerfile's RUN steps that run the
   project's code (manage.py …) with the image's ENV and nothing else of this machine's
   environment. Package installs (apt-get, pip) are skipped: this virtualenv has them.
3. "Starts the containers": each app service (those built from the Dockerfile) in a folder of
   its own, a copy of the image, in the order of depends_on (a one-shot service that others
   wait for with service_completed_successfully must exit 0 first), with that service's
   environment: Dockerfile ENV, env_file, environment. Host names of the compose services are
   mapped to this machine: postgres -> a database of its own on 127.0.0.1:5432 (created and
   dropped here), redis -> 127.0.0.1:6379 with DBs 8 and 9 (flushed). The containers share
   only the declared volumes: a container path a service mounts is rewritten to a shared
   temporary folder wherever it appears in the environment or the command; every other
   absolute path of the container (its WORKDIR, /tmp) is the container's own.
   The web's listening port is moved to a free local port. This script plays the TLS proxy:
   it sends X-Forwarded-Proto from 127.0.0.1, which the web is told to trust.
4. Checks: pages answer 200 with DEBUG=0; settings from the env file reach the containers;
   an upload through the API is imported by the worker; beat's schedule (kept in a volume)
   has the nightly KPI job and the sweeper; SIGTERM stops gunicorn and the worker promptly.

Prints each check, exits 1 when one fails. Needs PostgreSQL and Redis on this machine, run
it with the project's virtualenv: .venv/bin/python scripts/deploy_smoke.py
"""

# ruff: noqa: T201 – a command-line report

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("SMOKE_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_HOST = os.environ.get("SMOKE_REDIS_HOST", "127.0.0.1:6379")
REDIS_DBS = [int(n) for n in os.environ.get("SMOKE_REDIS_DBS", "8,9").split(",")]
DB_NAME = os.environ.get("SMOKE_DB_NAME", "deploy_smoke")
HOST = "smoke.example.org"
# What the operator writes into .env (README "Production"); the settings check expects the
# last four in every app container.
SMOKE_ENV = {
    "ALLOWED_HOSTS": HOST,
    "SITE_ADDRESS": HOST,
    "SITE_URL": f"https://{HOST}",
    "DEFAULT_FROM_EMAIL": f"rfi@{HOST}",
    "EMAIL_PORT": "2525",
    "OCDS_OCID_PREFIX": "ocds-smoke1-rfi",
}
STOP_SECONDS = 15  # "promptly": well inside compose's default 10 s + grace periods


# --- results -----------------------------------------------------------------------------


class Checks:
    def __init__(self) -> None:
        self.failed: list[str] = []

    def report(self, name: str, ok: bool, detail: str = "") -> bool:
        print(
            f"[{'PASS' if ok else 'FAIL'}] {name}" + (f": {detail}" if detail else ""), flush=True
        )
        if not ok:
            self.failed.append(name)
        return ok


def log(message: str) -> None:
    print(f"  - {message}", flush=True)


# --- Dockerfile ------------------------------------------------------------------------------


@dataclass
class Image:
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    runs: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (command, env then)
    cmd: list[str] | str | None = None


def dockerfile_parse(text: str) -> Image:
    image = Image()
    joined = re.sub(r"\\\n", " ", text)
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        instruction, rest = instruction.upper(), rest.strip()
        if instruction == "ENV":
            if "=" in rest.split()[0]:
                for token in shlex.split(rest):
                    key, _, value = token.partition("=")
                    image.env[key] = value
            else:  # ENV KEY value
                key, _, value = rest.partition(" ")
                image.env[key] = value.strip()
        elif instruction == "WORKDIR":
            image.workdir = rest
        elif instruction == "RUN":
            image.runs.append((rest, dict(image.env)))
        elif instruction == "CMD":
            image.cmd = json.loads(rest) if rest.startswith("[") else rest
    return image


def run_step_matters(command: str) -> bool:
    """The RUN steps that run the project's code; installs and users are the image's business."""
    return "manage.py" in command


# --- .dockerignore and the copies ------------------------------------------------------------


def dockerignore_patterns(root: Path) -> list[str]:
    path = root / ".dockerignore"
    if not path.exists():
        return []
    lines = [line.strip() for line in path.read_text().splitlines()]
    return [line.rstrip("/") for line in lines if line and not line.startswith("#")]


def ignored(relative: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        plain = pattern[3:] if pattern.startswith("**/") else pattern
        if fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(relative, plain):
            return True
        if pattern.startswith("**/") and fnmatch.fnmatch(Path(relative).name, plain):
            return True
    return False


def copy_context(root: Path, target: Path) -> None:
    patterns = dockerignore_patterns(root)

    def ignore(directory: str, names: list[str]) -> list[str]:
        rel_dir = Path(directory).relative_to(root)
        prefix = "" if rel_dir == Path(".") else f"{rel_dir}/"
        return [n for n in names if ignored(prefix + n, patterns)]

    shutil.copytree(root, target, ignore=ignore, symlinks=True)


# --- compose -----------------------------------------------------------------------------------

INTERPOLATION = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(value, variables: dict[str, str]):
    if isinstance(value, dict):
        return {k: interpolate(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, variables) for v in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.groups()
        current = variables.get(name)
        if operator in (":-", "-"):
            empty = current is None or (operator == ":-" and current == "")
            return argument if empty else current
        if operator in (":?", "?"):
            if current is None or (operator == ":?" and current == ""):
                raise SystemExit(f"compose: {name} is required: {argument}")
            return current
        return current or ""

    return INTERPOLATION.sub(replace, value)


def env_file_read(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    return values


def env_list(environment) -> dict[str, str]:
    if environment is None:
        return {}
    if isinstance(environment, list):
        return dict(item.partition("=")[::2] for item in environment)
    return {k: "" if v is None else str(v) for k, v in environment.items()}


def command_list(command) -> list[str]:
    if command is None:
        return []
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


def start_order(services: dict, names: list[str]) -> list[str]:
    order: list[str] = []

    def visit(name: str, path: tuple = ()) -> None:
        if name in order or name not in names:
            return
        if name in path:
            raise SystemExit(f"compose: depends_on cycle through {name}")
        for dependency in services[name].get("depends_on") or {}:
            visit(dependency, (*path, name))
        order.append(name)

    for name in names:
        visit(name)
    return order


def dependency_conditions(service: dict) -> dict[str, str]:
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        return {name: "service_started" for name in depends}
    return {
        name: (spec or {}).get("condition", "service_started") for name, spec in depends.items()
    }


# --- the local "containers" -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Container:
    name: str
    folder: Path
    env: dict[str, str]
    command: list[str]
    port: int | None = None
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    def start(self) -> None:
        self.log_path = self.folder.parent / f"{self.name}.log"
        out = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command,
            cwd=self.folder,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: what is left after a stop shows
        )

    def log_tail(self, lines: int = 25) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join("      | " + line[:300] for line in text[-lines:])

    def group_alive(self) -> bool:
        """Whether a process of the container's session is still running (zombies are gone)."""
        if self.process is None:
            return False
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
            except OSError:
                continue
            # pid (comm) state ppid pgrp session ...; comm may hold spaces and parentheses
            fields = text[text.rindex(")") + 2 :].split()
            if int(fields[3]) == self.process.pid and fields[0] != "Z":
                return True
        return False

    def kill(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


class Stack:
    def __init__(self, root: Path, workspace: Path, pg_url: str) -> None:
        self.root = root
        self.workspace = workspace
        self.pg_url = pg_url
        self.image = dockerfile_parse((root / "Dockerfile").read_text())
        self.compose = yaml.safe_load((root / "docker-compose.yml").read_text())
        self.services: dict = self.compose["services"]
        self.build_dir = workspace / "image"
        # The operator's side of the compose project: the .env written from env.example.
        self.compose_dir = workspace / "compose"
        self.volumes_dir = workspace / "volumes"
        self.redis_map: dict[str, int] = {}
        self.variables: dict[str, str] = {}
        self.env_file_values: dict[str, str] = {}
        self.containers: dict[str, Container] = {}

    # image -------------------------------------------------------------------------------
    def build(self, checks: Checks) -> bool:
        copy_context(self.root, self.build_dir)
        for command, env in self.image.runs:
            if not run_step_matters(command):
                log(f"build: skipped (packages/users): RUN {command[:70]}")
                continue
            log(f"build: RUN {command[:110]}")
            result = subprocess.run(
                ["sh", "-c", command],
                cwd=self.build_dir,
                env=self.base_env(env),
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                return checks.report(
                    "the Dockerfile's build steps run",
                    False,
                    (result.stderr or result.stdout)[-2000:],
                )
        return checks.report("the Dockerfile's build steps run", True)

    def base_env(self, image_env: dict[str, str]) -> dict[str, str]:
        venv_bin = str(Path(sys.prefix) / "bin")
        env = {
            "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.workspace / "home"),
            "LANG": "C.UTF-8",
        }
        env.update(image_env)
        return env

    # compose -------------------------------------------------------------------------------
    def app_services(self) -> list[str]:
        return [name for name, s in self.services.items() if "build" in s]

    def prepare_variables(self) -> None:
        """What compose interpolates ${...} with: the project's .env (the operator's copy of
        deploy/env.example when the project ships one), with a fresh secret and our host."""
        example = self.root / "deploy" / "env.example"
        values = env_file_read(example) if example.exists() else {}
        values.update(SMOKE_ENV, SECRET_KEY=secrets.token_urlsafe(50))
        self.env_file_values = values
        self.compose_dir.mkdir(parents=True, exist_ok=True)
        (self.compose_dir / ".env").write_text(
            "".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8"
        )
        self.variables = dict(values)

    def volume_mounts(self, service: dict) -> dict[str, Path]:
        """Container path -> shared folder, for the named volumes a service mounts."""
        mounts = {}
        declared = set((self.compose.get("volumes") or {}).keys())
        for entry in service.get("volumes") or []:
            if isinstance(entry, dict):
                source, target = entry.get("source"), entry.get("target")
            else:
                parts = str(entry).split(":")
                source, target = parts[0], parts[1] if len(parts) > 1 else None
            if target is None:
                continue
            if source in declared:
                folder = self.volumes_dir / source
            elif source.startswith((".", "/")):  # a bind mount of a project file
                folder = (self.root / source).resolve()
            else:
                continue
            folder.mkdir(parents=True, exist_ok=True)
            mounts[target.rstrip("/")] = folder
        return mounts

    def map_url(self, value: str) -> str:
        if not re.match(r"^(postgres|postgresql|redis)://", value):
            return value
        url = urllib.parse.urlsplit(value)
        host = url.hostname or ""
        service = self.services.get(host, {})
        image = str(service.get("image", ""))
        if url.scheme.startswith("postgres") and image.startswith("postgres"):
            admin = urllib.parse.urlsplit(self.pg_url)
            return urllib.parse.urlunsplit((url.scheme, admin.netloc, f"/{DB_NAME}", "", ""))
        if url.scheme == "redis" and image.startswith("redis"):
            number = (url.path or "/0").strip("/") or "0"
            if number not in self.redis_map:
                if len(self.redis_map) >= len(REDIS_DBS):
                    raise SystemExit(f"the compose file uses more Redis DBs than {REDIS_DBS}")
                self.redis_map[number] = REDIS_DBS[len(self.redis_map)]
            return f"redis://{REDIS_HOST}/{self.redis_map[number]}"
        return value

    def container(self, name: str, suffix: str = "") -> Container:
        service = self.services[name]
        folder = self.workspace / "containers" / f"{name}{suffix}" / "root"
        app_dir = folder / self.image.workdir.lstrip("/")
        shutil.copytree(self.build_dir, app_dir, symlinks=True)
        (folder / "tmp").mkdir(parents=True, exist_ok=True)
        mounts = self.volume_mounts(service)
        # Paths inside the container: the volumes (shared), then its own root.
        prefixes = sorted(mounts.items(), key=lambda item: -len(item[0]))

        # Absolute container paths in values and arguments: those under the mounts, the
        # WORKDIR and /tmp (paths inside URLs are left alone: no "/", ":" or "." before them).
        roots = {p.strip("/").split("/")[0] for p in [*mounts, self.image.workdir, "/tmp"]}
        roots.discard("")
        paths = re.compile(
            r"(?<![\w.:/])/(?:" + "|".join(map(re.escape, sorted(roots))) + r")(?:/[\w.\-]+)*"
        )

        def rewrite(value: str) -> str:
            return paths.sub(lambda match: rewrite_path(match.group(0)), value)

        def rewrite_path(path: str) -> str:
            for target, folder_on_host in prefixes:
                if path == target or path.startswith(target + "/"):
                    return str(folder_on_host) + path[len(target) :]
            return str(folder) + path

        env = self.base_env(self.image.env)
        env["HOSTNAME"] = f"{name}{suffix}"
        for entry in self._env_files(service):
            env.update(entry)
        env.update(env_list(interpolate(service.get("environment"), self.variables)))
        env = {k: self.map_url(rewrite(v)) for k, v in env.items()}
        env["PATH"] = self.base_env({})["PATH"]
        env["HOME"] = str(folder / "tmp")
        command = command_list(interpolate(service.get("command"), self.variables))
        if not command:
            cmd = self.image.cmd
            command = shlex.split(cmd) if isinstance(cmd, str) else list(cmd or [])
        command = [rewrite(arg) for arg in command]
        port = None
        if "gunicorn" in " ".join(command):
            # the smoke test plays the TLS proxy from 127.0.0.1, on a free local port
            port = free_port()
            command = [re.sub(r"0\.0\.0\.0:8000", f"127.0.0.1:{port}", arg) for arg in command]
            env["GUNICORN_CMD_ARGS"] = f"--bind 127.0.0.1:{port}"
            env["FORWARDED_ALLOW_IPS"] = "127.0.0.1"
        return Container(name + suffix, app_dir, env, command, port)

    def _env_files(self, service: dict) -> list[dict[str, str]]:
        files = service.get("env_file")
        if files is None:
            return []
        result = []
        for entry in [files] if isinstance(files, (str, dict)) else files:
            path = entry["path"] if isinstance(entry, dict) else entry
            target = self.compose_dir / path
            if not target.exists():
                target = self.root / path
            if not target.exists():
                if isinstance(entry, dict) and entry.get("required") is False:
                    continue
                raise SystemExit(f"compose: env_file {path} is missing")
            result.append(env_file_read(target))
        return result


# --- services on this machine ----------------------------------------------------------------


def postgres(admin_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql)


def redis_flush() -> None:
    import redis

    host, _, port = REDIS_HOST.partition(":")
    for number in REDIS_DBS:
        redis.Redis(host=host, port=int(port or 6379), db=number).flushdb()


# --- HTTP --------------------------------------------------------------------------------------


def http(port: int, path: str, *, method="GET", body=None, headers=None, timeout=30):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=body,
        method=method,
        # what the TLS proxy adds (deploy/Caddyfile)
        headers={
            "Host": HOST,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "203.0.113.7",
            **(headers or {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, OSError) as error:
        return 0, str(error).encode()


def wait_for_port(container: Container, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if container.process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", container.port), timeout=1):
                return True
        except OSError:
            time.sleep(0.3)
    return False


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (filename, data) in files.items():
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'
            ).encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


LEDGER_CSV = (
    "Bogføringsdato;Bilagsnr;Fakturanr;Leverandør CVR;Leverandørnavn;Konto;Omkostningssted;"
    "Beløb;Tekst;Bestillingskanal;CPV-kode\r\n"
    "02-01-2025;1001;F-1;12345678;Ærø Hospitalsudstyr A/S;22110;4100;1.234,56;"
    "Handsker nitril;E-ordre;33141000-0\r\n"
    "31-01-2025;1004;F-10;11223344;Fåborg Fødevarer I/S;23100;4300;99,90;"
    "Kaffe og te;Indkøbssystem;15860000-4\r\n"
).encode("utf-8-sig")

USER_SCRIPT = """
import sys
from django.contrib.auth import get_user_model
from rfi.models import Membership, Region
user, _ = get_user_model().objects.get_or_create(username="smoke-erp")
user.set_password(sys.argv[-1])
user.save()
Membership.objects.get_or_create(user=user, region=Region.objects.get(code="RM"),
                                 role=Membership.Role.OFFICER)
print("USER=ok")
"""

SETTINGS_SCRIPT = """
import json
from django.conf import settings
print("SETTINGS=" + json.dumps({k: str(getattr(settings, k)) for k in %r}))
"""

SCHEDULE_SCRIPT = """
import json, shelve, sys
path = sys.argv[1]
with shelve.open(path, flag="r") as db:
    entries = {name: str(entry.last_run_at) for name, entry in db["entries"].items()}
print("ENTRIES=" + json.dumps(entries))
"""


def exec_in(
    container: Container, args: list[str], timeout: float = 120
) -> subprocess.CompletedProcess:
    """docker compose exec: a command in a running container's folder and environment."""
    return subprocess.run(
        args,
        cwd=container.folder,
        env=container.env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# --- the run -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--root", type=Path, default=HERE, help="project folder (default: this one)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    options = parser.parse_args()
    root = options.root.resolve()
    checks = Checks()
    workspace = Path(tempfile.mkdtemp(prefix="deploy-smoke-"))
    print(f"deploy smoke test of {root} in {workspace}", flush=True)
    stack = Stack(root, workspace, PG_ADMIN_URL)
    postgres(PG_ADMIN_URL, f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    postgres(PG_ADMIN_URL, f'CREATE DATABASE "{DB_NAME}"')
    redis_flush()
    try:
        run(stack, checks)
    finally:
        for container in stack.containers.values():
            container.kill()
        postgres(PG_ADMIN_URL, f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        redis_flush()
        if options.keep:
            print(f"kept {workspace}")
        else:
            shutil.rmtree(workspace, ignore_errors=True)
    if checks.failed:
        print(f"deploy smoke test FAILED: {', '.join(checks.failed)}", flush=True)
        return 1
    print("deploy smoke test passed", flush=True)
    return 0


def run(stack: Stack, checks: Checks) -> None:
    if not stack.build(checks):
        return
    stack.prepare_variables()
    names = start_order(stack.services, stack.app_services())
    log(f"app services in start order: {', '.join(names)}")
    web = worker = beat = None
    for name in names:
        service = stack.services[name]
        for dependency, condition in dependency_conditions(service).items():
            if dependency in stack.containers and condition == "service_completed_successfully":
                one_shot = stack.containers[dependency]
                if one_shot.process.returncode != 0:
                    checks.report(f"{dependency} completed before {name}", False)
                    return
        container = stack.container(name)
        stack.containers[name] = container
        log(f"start {name}: {' '.join(container.command)[:150]}")
        container.start()
        waited_for = any(
            dependency_conditions(s).get(name) == "service_completed_successfully"
            for s in stack.services.values()
        )
        if waited_for:
            try:
                code = container.process.wait(timeout=600)
            except subprocess.TimeoutExpired:
                code = None
            ok = checks.report(f"one-shot {name} ran to completion", code == 0, f"exit {code}")
            if not ok:
                print(container.log_tail())
                return
        elif container.port is not None:
            web = container
            if not checks.report(
                f"{name} (gunicorn) listens",
                wait_for_port(container, 120),
                f"port {container.port}",
            ):
                print(container.log_tail())
                return
        elif "worker" in container.command:
            worker = container
        elif "beat" in container.command:
            beat = container
    if web is None or worker is None or beat is None:
        checks.report("the stack has web, worker and beat", False)
        return

    check_pages(web, checks)
    check_settings(stack, checks)
    check_upload(web, worker, checks)
    check_beat(stack, beat, checks)
    check_stop(web, "gunicorn", checks)
    check_stop(worker, "the Celery worker", checks)


def check_pages(web: Container, checks: Checks) -> None:
    if web.env.get("DEBUG") not in ("0", "false", "False", "off"):
        checks.report("web runs with DEBUG=0", False, f"DEBUG={web.env.get('DEBUG')!r}")
    for path in ("/", "/udbud/", "/api/docs/"):
        status, body = http(web.port, path)
        checks.report(
            f"GET {path} answers 200 with DEBUG=0",
            status == 200,
            f"{status}" + ("" if status == 200 else f" {body[:200]!r}"),
        )
    status, _ = http(web.port, "/no-such-page/")
    checks.report("an unknown page answers 404 (not 500)", status == 404, str(status))


def check_settings(stack: Stack, checks: Checks) -> None:
    wanted = ["SITE_URL", "DEFAULT_FROM_EMAIL", "EMAIL_PORT", "OCDS_OCID_PREFIX"]
    expected = {k: stack.env_file_values.get(k) for k in wanted}
    for name, container in stack.containers.items():
        if container.process.poll() is not None and name != "migrate":
            continue
        result = exec_in(
            container, ["python", "manage.py", "shell", "-c", SETTINGS_SCRIPT % wanted]
        )
        found = re.search(r"^SETTINGS=(.*)$", result.stdout, re.M)
        actual = json.loads(found.group(1)) if found else {}
        missing = [k for k in wanted if expected[k] is None or actual.get(k) != expected[k]]
        checks.report(
            f"{name} has the env file's {', '.join(wanted)}",
            not missing and bool(found),
            "" if not missing else f"differ: {missing} (got {actual}) {result.stderr[-300:]}",
        )


def check_upload(web: Container, worker: Container, checks: Checks) -> None:
    # an officer of RM, as the secretariat would create one (docker compose exec web ...),
    # then the ERP's own steps: a token for its username and password, the upload
    password = secrets.token_urlsafe(16)
    result = exec_in(
        web,
        ["python", "manage.py", "shell", "-c", USER_SCRIPT.replace("sys.argv[-1]", repr(password))],
    )
    status, answer = (0, result.stderr[-500:].encode())
    if "USER=ok" in result.stdout:
        form = urllib.parse.urlencode({"username": "smoke-erp", "password": password}).encode()
        status, answer = http(
            web.port,
            "/api/token/",
            method="POST",
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    token = json.loads(answer).get("token") if status == 200 else None
    if not checks.report(
        "an API token for an officer of RM (POST /api/token/)",
        bool(token),
        "" if token else f"{status} {answer[:300]!r}",
    ):
        return
    body, content_type = multipart({"region": "RM"}, {"file": ("hovedbog.csv", LEDGER_CSV)})
    auth = {"Authorization": f"Token {token}"}
    status, answer = http(
        web.port,
        "/api/v1/ledger-batches/",
        method="POST",
        body=body,
        headers={**auth, "Content-Type": content_type, "Accept": "application/json"},
    )
    if not checks.report(
        "the upload through the API is accepted (202)", status == 202, f"{status} {answer[:300]!r}"
    ):
        return
    batch = json.loads(answer)
    detail = f"/api/v1/ledger-batches/{batch['id']}/"
    deadline = time.monotonic() + 90
    state: dict = {}
    while time.monotonic() < deadline:
        status, answer = http(web.port, detail, headers={**auth, "Accept": "application/json"})
        state = json.loads(answer) if status == 200 else {"status": f"HTTP {status}"}
        if state.get("status") in ("done", "failed"):
            break
        time.sleep(1)
    ok = checks.report(
        "the worker imported the upload",
        state.get("status") == "done" and state.get("rows_loaded") == 2,
        f"status {state.get('status')!r}, rows {state.get('rows_loaded')!r} {state.get('message', '')}"[
            :400
        ],
    )
    if not ok:
        print(worker.log_tail(15))


def schedule_path(beat: Container) -> Path:
    command = beat.command
    schedule = next(
        (arg.split("=", 1)[1] for arg in command if arg.startswith(("--schedule=", "-s="))), None
    )
    for flag in ("--schedule", "-s"):
        if schedule is None and flag in command:
            schedule = command[command.index(flag) + 1]
    return Path(schedule) if schedule else beat.folder / "celerybeat-schedule"


def beat_run(beat: Container) -> dict[str, str]:
    """Let beat start and write its schedule, stop it, return entry -> last run time."""
    path = schedule_path(beat)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(path.parent.glob(path.name + "*")):
        time.sleep(0.5)
    time.sleep(3)  # beat writes its entries on start-up and syncs them
    beat.process.send_signal(signal.SIGTERM)
    try:
        beat.process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        beat.kill()
    result = subprocess.run(
        [sys.executable, "-c", SCHEDULE_SCRIPT, str(path)],
        cwd=beat.folder,
        env=beat.env,
        capture_output=True,
        text=True,
    )
    found = re.search(r"^ENTRIES=(.*)$", result.stdout, re.M)
    if not found:
        log(f"no schedule read from {path}: {result.stderr[-300:]}")
    return json.loads(found.group(1)) if found else {}


def check_beat(stack: Stack, beat: Container, checks: Checks) -> None:
    entries = beat_run(beat)
    for entry, label in (
        ("kpi-recompute-all", "the nightly KPI job"),
        ("spend-sweep-batches", "the sweeper"),
    ):
        checks.report(f"beat's schedule has {label} ({entry})", entry in entries)
    # A new beat container (a restart after an upgrade, a recreated container): it must find
    # the schedule the first one left, or a restart at 01:59 forgets that the night is due.
    again = stack.container("beat", suffix="-recreated")
    stack.containers[again.name] = again
    log(f"start a new beat container: {' '.join(again.command)[:150]}")
    again.start()
    later = beat_run(again)
    key = "kpi-recompute-all"
    checks.report(
        "a new beat container keeps the schedule's last run times (a volume)",
        bool(entries) and later.get(key) == entries.get(key),
        f"{key} last run {entries.get(key)} then {later.get(key)}",
    )


def check_stop(container: Container, label: str, checks: Checks) -> None:
    started = time.monotonic()
    container.process.send_signal(signal.SIGTERM)
    while time.monotonic() - started < STOP_SECONDS and container.group_alive():
        time.sleep(0.2)
    gone = not container.group_alive()
    took = time.monotonic() - started
    ok = checks.report(
        f"SIGTERM stops {label} and all its processes within {STOP_SECONDS} s",
        gone,
        f"{took:.1f} s" if gone else "still running",
    )
    if ok and container.port is not None:
        with socket.socket() as s:
            listening = s.connect_ex(("127.0.0.1", container.port)) == 0
        checks.report(f"{label} no longer listens after the stop", not listening)
    container.kill()


if __name__ == "__main__":
    sys.exit(main())
