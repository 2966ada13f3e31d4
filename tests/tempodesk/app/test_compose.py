"""The deployment files agree with the code: docker-compose.yml, the Dockerfile, the WSGI entry.

Plain file checks (no Docker): every service the code expects exists, the Tempodesk services
share one set of real settings pointing at the right services, the search attributes the
workflows upsert are registered with their types, and only loopback ports are published.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tempodesk.contracts import SEARCH_ATTRIBUTES
from tempodesk.core.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

POSTGRES, TEMPORAL, SETUP, TEMPORAL_UI = "postgres", "temporal", "temporal-setup", "temporal-ui"
MAIL, MIGRATE, WORKER, WEB = "mailpit", "migrate", "worker", "web"
WORKERS = (WORKER, "worker-mail", "worker-webhooks")
APP_SERVICES = (WEB, *WORKERS, MIGRATE)

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}
VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


@cache
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


def service(name: str) -> dict[str, Any]:
    services: dict[str, Any] = compose()["services"]
    return services[name]


def environment(name: str) -> dict[str, str]:
    env = service(name).get("environment") or {}
    assert isinstance(env, dict), f"{name}: write environment as a mapping"
    return {str(key): str(value) for key, value in env.items()}


def resolve(value: str) -> str:
    """What Compose passes to the container, with required variables as placeholders."""

    def substitute(match: re.Match[str]) -> str:
        op, arg = match["op"] or "", match["arg"] or ""
        if op.endswith("-"):
            return arg
        if op.endswith("?"):
            return f"required-{match['name'].lower()}"
        return ""

    return VARIABLE.sub(substitute, value.replace("$$", "\0")).replace("\0", "$")


def app_env() -> dict[str, str]:
    return {key: resolve(value) for key, value in environment(WEB).items()}


def host_port(address: str) -> tuple[str, int]:
    parts = urlsplit(f"//{address}")
    assert parts.hostname is not None and parts.port is not None, address
    return parts.hostname, parts.port


def script(name: str) -> str:
    """A service's entrypoint and command as one shell text."""
    parts: list[str] = []
    for key in ("entrypoint", "command"):
        value = service(name).get(key) or []
        parts += [value] if isinstance(value, str) else [str(item) for item in value]
    return "\n".join(parts).replace("$$", "$")


def published_ports(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """(host ip, container port) of every published port, short or long syntax."""
    found: list[tuple[str, str]] = []
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            found.append((str(port.get("host_ip", "")), str(port["target"])))
            continue
        text = str(port).split("/", 1)[0]
        if text.startswith("["):  # [::1]:8000:8000
            host_ip, _, rest = text[1:].partition("]:")
            found.append((host_ip, rest.rsplit(":", 1)[-1]))
            continue
        fields = text.split(":")
        found.append((fields[0] if len(fields) == 3 else "", fields[-1]))
    return found


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8")
    logical = re.sub(r"\\\n", " ", text)
    instructions = []
    for line in logical.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def dockerfile_exec_form(keyword: str) -> list[str] | None:
    values = [rest for kw, rest in dockerfile_instructions() if kw == keyword]
    if not values:
        return None
    last = values[-1]
    parsed = json.loads(last) if last.startswith("[") else ["/bin/sh", "-c", last]
    return [str(item) for item in parsed]


def test_compose_defines_every_service_the_deployment_needs() -> None:
    expected = {POSTGRES, TEMPORAL, SETUP, TEMPORAL_UI, MAIL, MIGRATE, WORKER, WEB}
    assert expected <= set(compose()["services"])


def test_web_worker_and_migrate_share_one_identical_tempodesk_environment() -> None:
    web = environment(WEB)
    assert web, "the web service has no environment"
    assert all(key.startswith("TEMPODESK_") for key in web)
    for name in (WORKER, MIGRATE):
        assert environment(name) == web, f"{name} differs from web"


def test_every_tempodesk_variable_in_compose_is_a_settings_field() -> None:
    names = set(re.findall(r"\bTEMPODESK_[A-Z0-9_]+", COMPOSE.read_text(encoding="utf-8")))
    assert names
    unknown = {
        name
        for name in names
        if name.removeprefix("TEMPODESK_").lower() not in Settings.model_fields
    }
    assert not unknown, f"not fields of tempodesk.core.settings.Settings: {sorted(unknown)}"


def test_the_app_environment_parses_into_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in app_env().items():
        monkeypatch.setenv(key, value)
    settings = get_settings()
    assert settings.db_url.startswith("postgresql+psycopg://")
    assert settings.secret_key and settings.base_url and settings.temporal_ui_url


def test_secrets_are_required_from_the_environment_never_defaulted() -> None:
    secret = environment(WEB)["TEMPODESK_SECRET_KEY"]
    assert re.fullmatch(r"\$\{TEMPODESK_SECRET_KEY:\?[^}]+\}", secret)
    for match in VARIABLE.finditer(COMPOSE.read_text(encoding="utf-8")):
        if "PASSWORD" in match["name"] or "SECRET" in match["name"]:
            assert match["op"] == ":?", f"{match[0]} must be required, not defaulted"


def test_database_url_points_at_the_postgres_service_and_a_database_of_its_own() -> None:
    raw = environment(WEB)["TEMPODESK_DATABASE_URL"]
    url = urlsplit(resolve(raw))
    pg = environment(POSTGRES)
    assert url.scheme == "postgresql"
    assert url.hostname == POSTGRES and url.port == 5432
    assert url.username == pg["POSTGRES_USER"]
    assert url.path == f"/{pg['POSTGRES_DB']}"
    assert pg["POSTGRES_PASSWORD"] in raw, "the URL must carry the server's password"
    temporal = environment(TEMPORAL)
    temporal_dbs = {
        temporal.get("DBNAME", "temporal"),
        temporal.get("VISIBILITY_DBNAME", "temporal_visibility"),
    }
    assert pg["POSTGRES_DB"] not in temporal_dbs


def test_postgres_has_a_healthcheck_and_a_named_volume() -> None:
    pg = service(POSTGRES)
    assert str(pg["image"]).startswith("postgres:16")
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    volumes = [str(volume).split(":", 1)[0] for volume in pg["volumes"]]
    assert any(volume in (compose().get("volumes") or {}) for volume in volumes)


def test_temporal_persists_to_the_postgres_service() -> None:
    temporal = service(TEMPORAL)
    env = environment(TEMPORAL)
    assert str(temporal["image"]).startswith("temporalio/auto-setup:")
    assert env["DB"] == "postgres12"
    assert env["POSTGRES_SEEDS"] == POSTGRES
    assert env["DB_PORT"] == "5432"
    assert env["POSTGRES_USER"] == environment(POSTGRES)["POSTGRES_USER"]
    assert env["POSTGRES_PWD"] == environment(POSTGRES)["POSTGRES_PASSWORD"]
    assert temporal["depends_on"][POSTGRES]["condition"] == "service_healthy"


def test_temporal_address_and_namespace_point_at_the_temporal_service() -> None:
    address = app_env()["TEMPODESK_TEMPORAL_ADDRESS"]
    assert host_port(address) == (TEMPORAL, 7233)
    assert environment(TEMPORAL_UI)["TEMPORAL_ADDRESS"] == address
    assert environment(SETUP)["TEMPORAL_ADDRESS"] == address
    assert app_env()["TEMPODESK_TEMPORAL_NAMESPACE"] == environment(TEMPORAL)["DEFAULT_NAMESPACE"]


def test_smtp_host_is_the_mail_catcher_service() -> None:
    env = app_env()
    assert env["TEMPODESK_SMTP_HOST"] == MAIL
    assert env["TEMPODESK_SMTP_PORT"] == "1025"
    assert str(service(MAIL)["image"]).startswith("axllent/mailpit")


def test_setup_service_registers_every_search_attribute_with_its_type() -> None:
    text = script(SETUP)
    registered = dict(re.findall(r"--name\s+(\w+)\s+--type\s+(\w+)", text))
    assert registered == SEARCH_ATTRIBUTES
    assert "temporal operator search-attribute create" in text
    namespace = app_env()["TEMPODESK_TEMPORAL_NAMESPACE"]
    create = text[text.index("search-attribute create") :]
    assert f"--namespace {namespace}" in create
    assert "--address temporal:7233" in create
    assert str(service(SETUP)["image"]).startswith("temporalio/admin-tools:")


def test_setup_service_waits_for_temporal_and_runs_once() -> None:
    text = script(SETUP)
    wait = re.search(r"until temporal operator ([^;]+);", text)
    assert wait is not None, "the setup must retry until Temporal answers"
    assert text.index(wait[0]) < text.index("search-attribute create")
    assert str(service(SETUP).get("restart", "no")) == "no"
    assert service(SETUP)["depends_on"][TEMPORAL]["condition"] == "service_started"


def test_worker_and_web_wait_for_migrations_and_search_attributes() -> None:
    for name in (WORKER, WEB):
        depends = service(name)["depends_on"]
        assert depends[MIGRATE]["condition"] == "service_completed_successfully"
        assert depends[SETUP]["condition"] == "service_completed_successfully"
    assert service(MIGRATE)["depends_on"][POSTGRES]["condition"] == "service_healthy"
    assert str(service(MIGRATE).get("restart", "no")) == "no"


def test_app_services_run_commands_the_tempodesk_cli_has() -> None:
    from tempodesk.app.cli import main

    assert service(MIGRATE)["command"] == ["tempodesk", "db", "upgrade"]
    assert service(WORKER)["command"][:2] == ["tempodesk", "worker"]
    assert "worker" in main.commands
    db = main.commands["db"]
    assert "upgrade" in db.commands  # type: ignore[attr-defined]
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'tempodesk = "tempodesk.app.cli:main"' in pyproject
    images = {service(name)["image"] for name in APP_SERVICES}
    assert len(images) == 1, "web, worker and migrate must run the same image"


def test_worker_scales_without_container_name_or_host_ports() -> None:
    for name in WORKERS:
        worker = service(name)
        assert "container_name" not in worker
        assert not worker.get("ports")


def test_the_worker_services_poll_every_task_queue_once_each() -> None:
    from tempodesk.app.worker import QUEUES, selected_queues

    polled = []
    for name in WORKERS:
        command = service(name)["command"]
        assert command[:3] == ["tempodesk", "worker", "--queues"]
        assert environment(name) == environment(WEB)
        polled += selected_queues(command[3])
    assert sorted(polled) == sorted(QUEUES.values())


def test_published_ports_bind_to_loopback_only() -> None:
    published = {name: published_ports(spec) for name, spec in compose()["services"].items()}
    for name, ports in published.items():
        for host_ip, _target in ports:
            assert host_ip == "127.0.0.1", f"{name} publishes on {host_ip or 'every address'}"
    assert ("127.0.0.1", "8000") in published[WEB]
    assert ("127.0.0.1", "8080") in published[TEMPORAL_UI]
    assert ("127.0.0.1", "8025") in published[MAIL]


def test_web_runs_gunicorn_with_the_wsgi_app_on_its_published_port() -> None:
    command = service(WEB)["command"]
    words = shlex.split(command) if isinstance(command, str) else [str(w) for w in command]
    assert words[0] == "gunicorn"
    assert words[-1] == "tempodesk.app.wsgi:app"
    bind = words[words.index("--bind") + 1]
    host, port = host_port(bind)
    assert host == "0.0.0.0"
    assert ("127.0.0.1", str(port)) in published_ports(service(WEB))


def test_wsgi_module_defines_app_from_the_factory() -> None:
    """Parsed, not imported: importing would build an app against the default settings."""
    tree = ast.parse((ROOT / "tempodesk" / "app" / "wsgi.py").read_text(encoding="utf-8"))
    imports_factory = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "web"
        and any(alias.name == "create_app" for alias in node.names)
        for node in tree.body
    )
    assigns_app = any(
        isinstance(node, ast.Assign)
        and any(isinstance(target, ast.Name) and target.id == "app" for target in node.targets)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "create_app"
        for node in tree.body
    )
    assert imports_factory and assigns_app


def test_dockerfile_default_command_is_the_web_service_command() -> None:
    assert dockerfile_exec_form("ENTRYPOINT") is None, (
        "an ENTRYPOINT would swallow the worker's and migrate's commands"
    )
    assert dockerfile_exec_form("CMD") == [str(word) for word in service(WEB)["command"]]
    exposed = [rest for keyword, rest in dockerfile_instructions() if keyword == "EXPOSE"]
    assert exposed == ["8000"]


def test_dockerfile_installs_the_project_as_non_root_without_secrets() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    # The project, at the versions make test passed with (requirements.lock).
    assert any(
        kw == "RUN" and "pip install -c requirements.lock . " in rest for kw, rest in instructions
    )
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    for keyword, rest in instructions:
        if keyword in {"ENV", "ARG"}:
            assert not re.search(r"SECRET|PASSWORD|TOKEN", rest, re.IGNORECASE), rest


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_image() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", "var", ".git", "test-results", ".env"} <= ignored
    assert {".pytest_cache", ".mypy_cache", ".ruff_cache", "__pycache__"} <= ignored


#: PostgreSQL's default max_connections, less its superuser_reserved_connections (3).
PG_CONNECTIONS = 100 - 3
#: Temporal's services in auto-setup's one process (frontend, history, matching, worker),
#: each with its own pool per datastore (default and visibility).
TEMPORAL_SERVICES, TEMPORAL_STORES = 4, 2


def connection_budget(workers: int = 3) -> dict[str, int]:
    """The most connections each part may open at once, as docker-compose.yml configures it."""
    env = app_env()
    per_web = int(env["TEMPODESK_DB_POOL_SIZE"]) + int(env["TEMPODESK_DB_MAX_OVERFLOW"])
    command = service(WEB)["command"]
    web_processes = int(command[command.index("--workers") + 1])
    temporal = int(environment(TEMPORAL)["SQL_MAX_CONNS"])
    return {
        "web": web_processes * per_web,
        "workers": workers * int(env["TEMPODESK_WORKER_DB_POOL_SIZE"]),
        "temporal": TEMPORAL_SERVICES * TEMPORAL_STORES * temporal,
        "migrate": 1,  # NullPool, one connection, done before the others start
    }


def test_three_workers_stay_under_postgres_default_connection_limit() -> None:
    budget = connection_budget(workers=3)
    assert sum(budget.values()) <= PG_CONNECTIONS, budget


def test_no_web_thread_waits_for_a_database_connection() -> None:
    env = app_env()
    per_process = int(env["TEMPODESK_DB_POOL_SIZE"]) + int(env["TEMPODESK_DB_MAX_OVERFLOW"])
    command = service(WEB)["command"]
    assert int(command[command.index("--threads") + 1]) <= per_process


def test_worker_stop_grace_covers_its_graceful_shutdown() -> None:
    grace = service(WORKER)["stop_grace_period"]
    assert grace.endswith("s")
    shutdown = Settings.model_fields["worker_shutdown_seconds"].default
    assert int(app_env().get("TEMPODESK_WORKER_SHUTDOWN_SECONDS", shutdown)) < int(grace[:-1])
