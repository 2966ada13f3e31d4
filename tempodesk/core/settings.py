"""The one configuration object, read from the environment (prefix ``TEMPODESK_``).

The web app, the worker and the CLI all build their settings here, so
``.venv/bin/tempodesk create-token admin`` next to a running ``make dev`` talks to the
same database and the same Temporal server. Tests pass overrides as keyword arguments.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tempodesk.core.languages import DEFAULT_ENABLED, parse_enabled


class Settings(BaseSettings):
    """Tempodesk's settings; every field is ``TEMPODESK_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="TEMPODESK_", extra="ignore")

    var_dir: Path = Field(Path("var"), description="Where the embedded default keeps its data")
    database_url: str = Field("", description="SQLAlchemy URL; SQLite under var_dir if empty")
    db_pool_size: int = Field(
        10, ge=1, description="Connections a web process (or the CLI) keeps open"
    )
    db_max_overflow: int = Field(
        10, ge=0, description="Connections a web process may open beyond its pool under load"
    )
    worker_db_pool_size: int = Field(
        20, ge=1, description="The most connections a worker process opens (its one pool)"
    )
    worker_cached_workflows: int = Field(
        4000,
        ge=0,
        description="Ticket workflows the worker keeps in memory between their tasks (the "
        "SDK's sticky cache). Tickets beyond it replay their history at their next timer or "
        "signal: with many SLA timers due together, a small cache makes them fire late "
        "(make bench-sla); each costs memory",
    )
    worker_shutdown_seconds: float = Field(
        45.0,
        ge=0,
        description="On SIGTERM the worker stops polling and lets activities in flight finish "
        "this long (keep it below the deployment's stop grace period)",
    )
    worker_metrics_port: int = Field(
        0,
        ge=0,
        le=65535,
        description="Port of the worker's Prometheus /metrics (ours and the Temporal SDK's); "
        "0: none",
    )
    worker_metrics_host: str = Field(
        "127.0.0.1",
        description="Address the worker's /metrics listens on; callers other than loopback "
        "need a token with the ops scope",
    )
    log_format: str = Field(
        "text",
        pattern="^(text|json)$",
        description="Log lines as text or as JSON objects (with ticket number and workflow id)",
    )

    temporal_address: str = Field("", description="host:port of Temporal's frontend")
    temporal_namespace: str = "default"
    temporal_port: int = Field(7233, description="Port of the embedded Temporal dev server")
    temporal_ui_port: int = Field(8233, description="Port of the embedded Temporal UI")
    temporal_ui_url: str = Field("", description="Base URL of the Temporal UI for links")
    temporal_tls: bool = Field(
        False, description="Connect to Temporal over TLS (implied by an API key or TLS files)"
    )
    temporal_tls_ca_file: Path | None = Field(
        None,
        description="PEM of the CA that signed Temporal's server certificate (else the system's)",
    )
    temporal_tls_cert_file: Path | None = Field(
        None, description="PEM client certificate for mutual TLS (Temporal Cloud, a cluster)"
    )
    temporal_tls_key_file: Path | None = Field(None, description="PEM key of that certificate")
    temporal_tls_server_name: str = Field("", description="Server name to verify, if not the host")
    temporal_api_key: str = Field("", description="Temporal Cloud API key (instead of mTLS)")
    payload_keys: str = Field(
        "",
        description="Encrypt workflow payloads (AES-256-GCM): base64 32-byte keys, "
        "comma-separated; the first encrypts, all decrypt; empty: payloads are not encrypted",
    )
    worker_queues: str = Field(
        "tickets,mail,webhooks,telephony",
        description="Which task queues a worker process polls (comma-separated: tickets, mail, "
        "webhooks, telephony), so each can be scaled apart",
    )
    retention_months: int = Field(
        0, ge=0, description="Closed tickets older than this are forgotten by a schedule; 0: never"
    )
    retention_mode: str = Field(
        "anonymise", description="What retention does to old closed tickets: anonymise | delete"
    )
    retention_every_hours: float = Field(24.0, gt=0, description="How often retention runs")

    web_host: str = "127.0.0.1"
    web_port: int = 8000
    base_url: str = Field("", description="Public base URL of the web app, for links in mail")
    secret_key: str = Field("", description="Flask session key; generated under var_dir if empty")
    languages: str = Field(
        DEFAULT_ENABLED,
        description="The languages this helpdesk offers (of en,cs,de,uk,lt,el,ru), comma "
        "separated; the first is its default language",
    )
    secure_cookies: bool = Field(
        False,
        description="Behind HTTPS: cookies only over HTTPS (Secure) and an HSTS header",
    )

    api_token_cache_seconds: float = Field(
        5.0,
        ge=0,
        description="How long a web process trusts an API token it checked (a revoked token "
        "works at most this long; 0: look it up on every request)",
    )
    desk_counts_seconds: float = Field(
        10.0,
        ge=0,
        description="How long the desk's panel counts are kept per agent (0: count every time)",
    )
    rate_limit_storage_uri: str = Field(
        "memory://",
        description="Where rate-limit counters live (redis://... for several web processes)",
    )
    login_rate_limit: str = Field(
        "20/minute;200/hour", description="Sign-in attempts per client address"
    )
    login_failure_limit: str = Field(
        "5/minute;30/hour", description="Failed sign-ins per username (then 429 until it passes)"
    )
    public_form_rate_limit: str = Field(
        "5/minute;30/hour", description="Submissions of the public form per client address"
    )
    kb_suggest_rate_limit: str = Field(
        "60/minute;600/hour",
        description="Knowledge-base suggestions (/help/suggest) per client address",
    )
    portal_link_minutes: int = Field(
        30, ge=1, description="How long a customer portal sign-in link works (it works once)"
    )
    portal_login_rate_limit: str = Field(
        "10/minute;60/hour", description="Portal sign-in links asked for, per client address"
    )
    portal_address_rate_limit: str = Field(
        "3/10 minutes;10/day", description="Portal sign-in links asked for, per email address"
    )
    public_form_address_rate_limit: str = Field(
        "5/10 minutes;20/day",
        description="Submissions of the public forms per sender email address",
    )
    public_form_min_seconds: float = Field(
        3.0, description="A public form sent sooner after it was shown is refused (a bot)"
    )

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(20.0, description="Kept below the send activity timeout")
    auto_reply_hours: float = Field(
        24.0, description="At most one auto-reply (acknowledgement, trigger) per sender in this"
    )
    mail_from: str = "support@tempodesk.localhost"
    mail_from_name: str = "Tempodesk Support"
    message_id_domain: str = Field("tempodesk.localhost", description="Right side of Message-IDs")
    mail_sink_dir: Path | None = Field(None, description="Set by `tempodesk dev`: caught mail")

    ticket_number_template: str = Field(
        "HD-{year}-{seq:06d}", description="Ticket numbers; {year} and {seq} are available"
    )
    default_process: str = "support"
    resume_pending_seconds: float = Field(
        30.0,
        description="The worker starts tickets accepted this long ago but not confirmed "
        "started (Temporal was away), looking this often",
    )
    pending_start_attempts: int = Field(
        5,
        description="A ticket whose start failed this often is dead-lettered (shown on /healthz, "
        "retried by `tempodesk pending retry`)",
    )
    default_group: str = Field("", description="Group for tickets nobody else is assigned to")
    default_assignee: str = Field("", description="Agent for tickets nobody else is assigned to")

    allow_private_mail_hosts: bool = Field(
        False,
        description="Let mailboxes use IMAP/SMTP hosts in private, loopback or link-local "
        "ranges (an on-premises server); off, such hosts are refused at save and at connect",
    )

    phone_region: str = Field(
        "CZ",
        description="Region (ISO 3166 code) of phone numbers written without a country code; "
        "numbers are stored and matched in E.164",
    )
    pbx: str = Field("", description="Click-to-call through: '' (none), 'ami' or 'cti'")
    ami_host: str = Field("127.0.0.1", description="Asterisk AMI host")
    ami_port: int = Field(5038, description="Asterisk AMI port")
    ami_username: str = Field("", description="AMI user (manager.conf)")
    ami_secret: str = Field("", description="AMI secret")
    ami_channel: str = Field(
        "PJSIP/{extension}", description="The agent's channel that rings first on click-to-call"
    )
    ami_context: str = Field("from-internal", description="Dialplan context dialling customers")
    cti_provider: str = Field(
        "", description="Name of the cloud PBX: its events come in at /hooks/cti/<name>"
    )
    cti_secret: str = Field("", description="HMAC-SHA256 key the cloud PBX signs events with")
    cti_call_url: str = Field("", description="The cloud PBX's click-to-call URL (POST, JSON)")
    cti_token: str = Field("", description="Bearer token sent to the click-to-call URL")
    allow_private_phone_hosts: bool = Field(
        False,
        description="Let the PBX (AMI host, click-to-call URL) be a private, loopback or "
        "link-local address (an on-premises PBX, the dev stand-in)",
    )
    phone_lab: bool = Field(
        False, description="Show admins the Phone lab (ring an extension; the dev stand-in)"
    )
    allow_private_sms_hosts: bool = Field(
        False,
        description="Let the SMS gateway's URL lead to loopback or private addresses (the "
        "stand-in, an on-premises gateway); link-local and metadata addresses never",
    )
    sms_timeout_seconds: float = Field(
        15.0, description="How long a send waits for the SMS provider's answer"
    )
    sms_sink_dir: Path | None = Field(None, description="Set by `tempodesk dev`: caught SMS")
    sms_stand_in_port: int = Field(8026, description="`tempodesk dev`'s stand-in SMS gateway")
    webhook_allowed_hosts: str = Field(
        "",
        description="Webhook hosts (comma-separated names as written in the URL) that may be in "
        "loopback, private or link-local ranges; every other host is resolved at send time "
        "and refused if any of its addresses is not public",
    )
    webhook_attempts: int = Field(5, description="Attempts per webhook delivery")
    webhook_retry_seconds: float = Field(
        10.0, description="Wait before a webhook delivery's second attempt (doubling after)"
    )
    webhook_max_retry_seconds: float = Field(600.0, description="Longest wait between attempts")
    webhook_timeout_seconds: float = Field(10.0, description="Connect and read timeout per attempt")
    webhook_disable_after: int = Field(
        5, description="A subscription is disabled after this many failed deliveries in a row"
    )

    max_request_bytes: int = Field(1024 * 1024, description="Largest HTTP request body accepted")
    max_message_chars: int = Field(100_000, description="Longest message body accepted")
    max_import_bytes: int = Field(30 * 1024 * 1024, description="Largest .eml an agent imports")
    max_subject_chars: int = 250
    max_attachment_bytes: int = Field(
        10 * 1024 * 1024, description="Largest file an agent attaches to a reply or a note"
    )
    max_upload_bytes: int = Field(
        25 * 1024 * 1024,
        description="Largest request with files from the desk (a reply with its attachments, "
        "an orders CSV)",
    )

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: str) -> str:
        return ",".join(parse_enabled(value))

    @property
    def enabled_languages(self) -> tuple[str, ...]:
        """The languages pages offer, the helpdesk's default first."""
        return parse_enabled(self.languages)

    @property
    def default_language(self) -> str:
        return self.enabled_languages[0]

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL, with the psycopg 3 driver for PostgreSQL."""
        url = self.database_url or f"sqlite:///{self.var_dir.resolve() / 'tempodesk.db'}"
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        elif url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgres://")
        return url

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    @property
    def temporal_ui(self) -> str:
        return (self.temporal_ui_url or f"http://127.0.0.1:{self.temporal_ui_port}").rstrip("/")

    @property
    def public_url(self) -> str:
        return (self.base_url or f"http://{self.web_host}:{self.web_port}").rstrip("/")

    def session_secret(self) -> str:
        """The configured secret key, or one generated once and kept under ``var_dir``."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key

    def workflow_url(self, workflow_id: str) -> str:
        """Link to a workflow in the Temporal UI."""
        return f"{self.temporal_ui}/namespaces/{self.temporal_namespace}/workflows/{workflow_id}"

    def workflows_query_url(self, query: str) -> str:
        """Link to the Temporal UI's workflow list filtered by a visibility query."""
        from urllib.parse import quote

        base = f"{self.temporal_ui}/namespaces/{self.temporal_namespace}/workflows"
        return f"{base}?query={quote(query, safe='')}"


def get_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (used by tests)."""
    return Settings(**overrides)  # type: ignore[arg-type]
