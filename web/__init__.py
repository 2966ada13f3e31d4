"""The Flask app: agent desk, public web form, JSON API. One blueprint per audience."""

from __future__ import annotations

import hmac
from contextlib import suppress
from typing import Any

from flask import Flask, current_app, g, jsonify, make_response, render_template, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import InternalError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from tempodesk.core.models import User
from tempodesk.core.temporal import EngineUnavailable
from tempodesk.people.token_cache import TokenCache
from web import i18n, limits
from web.i18n import N_, translate_message
from web.services import Services

login_manager = LoginManager()
csrf = CSRFProtect()

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

HSTS = "max-age=31536000; includeSubDomains"


def create_app(test_config: dict[str, Any] | None = None, *, runtime: Services) -> Flask:
    """The app factory. The composition root (``tempodesk.app``) builds ``runtime``: the
    settings, the database and the Temporal facade this app uses; tests pass their own."""
    settings = runtime.settings
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.session_secret(),
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="tempodesk_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        WTF_CSRF_TIME_LIMIT=None,  # valid for the session: a long reply must not expire
        JSON_SORT_KEYS=False,
    )
    if test_config:
        app.config.update(test_config)
    app.extensions["tempodesk"] = runtime
    app.extensions["tempodesk_tokens"] = TokenCache(settings.api_token_cache_seconds)
    app.session_interface = ApiWithoutSessions()

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = N_("Please sign in to use the desk.")
    login_manager.localize_callback = i18n.gettext
    csrf.init_app(app)
    i18n.init_app(app)
    limits.init_app(app, settings)

    _register_blueprints(app)

    app.teardown_appcontext(_close_session)
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(EngineUnavailable, _engine_unavailable)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(InternalError, _database_unavailable)
    app.register_error_handler(PoolTimeout, _database_unavailable)
    app.add_url_rule("/", "index", _index)
    app.jinja_env.globals["settings"] = settings
    return app


def _register_blueprints(app: Flask) -> None:
    """Every room of the web, and the request edges' checks before them."""
    from web import (
        admin,
        api,
        auth,
        codec,
        compose,
        desk,
        edges,
        health,
        kb,
        people,
        phone,
        portal,
        public,
        sms_hooks,
        support_forms,
    )

    edges.init_app(app)
    health.init_app(app)  # /healthz, /readyz, /metrics and the requests' timing

    app.register_blueprint(admin.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(desk.bp)
    app.register_blueprint(compose.bp)
    app.register_blueprint(people.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(support_forms.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(kb.help_bp)
    app.register_blueprint(kb.kb_bp)
    app.register_blueprint(portal.link_bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(phone.bp)
    app.register_blueprint(phone.hooks_bp)
    csrf.exempt(phone.hooks_bp)  # signed by the PBX (HMAC), no cookies
    csrf.exempt(api.bp)  # bearer tokens, no cookies: nothing for a cross-site form to ride on
    app.register_blueprint(sms_hooks.bp)
    csrf.exempt(sms_hooks.bp)  # signed by the provider or a bearer token; no cookies
    app.register_blueprint(codec.bp)
    csrf.exempt(codec.bp)  # JSON only, the Temporal UI's origin only (web/codec.py)


class ApiWithoutSessions(SecureCookieSessionInterface):
    """The API signs in with bearer tokens: its requests neither read a session cookie (no
    signature check, no signed-in user loaded from it) nor ever answer with one."""

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession | None:
        if request.path.startswith("/api/"):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        if request.path.startswith("/api/"):
            return
        super().save_session(app, session, response)


def runtime() -> Services:
    """What the app was built with (``create_app(runtime=...)``)."""
    rt: Services = current_app.extensions["tempodesk"]
    return rt


def db() -> Session:
    """The request's database session (closed when the request ends)."""
    if "db" not in g:
        g.db = runtime().sessions()
    session: Session = g.db
    return session


def release_db() -> None:
    """Give the request's connection back before waiting on Temporal.

    A request must never hold a pooled connection while it waits for a workflow (which may
    itself need connections, through intake or the projection): under load that would drain
    the pool. Loaded objects stay readable; the next ``db()`` use takes a fresh connection.
    """
    session = g.get("db")
    if session is not None:
        session.close()


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """The signed-in user, if their credentials are still those they signed in with."""
    ident, _, epoch = user_id.partition(".")
    if not ident.isdigit():
        return None
    user = db().get(User, int(ident))
    if user is None or not user.is_active or not hmac.compare_digest(epoch, user.auth_epoch):
        return None
    return user


def _security_headers(response: Any) -> Any:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]:
        # Only a page that names who may frame it (an embedded form) goes without.
        response.headers.setdefault("X-Frame-Options", "DENY")
    if runtime().settings.secure_cookies:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/codec/")) or request.path in (
        "/healthz",
        "/readyz",
        "/metrics",
    )


def error_response(status: int, code: str, message: str, **extra: Any) -> Any:
    """An error as JSON for the API (always English: integrators read it) or as a page in
    the reader's language (``message`` is English; ``translate_message`` finds its msgid)."""
    if wants_json():
        body: dict[str, Any] = {"error": {"code": code, "message": message, **extra}}
        return jsonify(body), status
    page = render_template("error.html", status=status, message=translate_message(message))
    return page, status


def _http_error(exc: HTTPException) -> Any:
    status = exc.code or 500
    codes = {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
    }
    messages = {
        404: N_("There is nothing here (or you may not see it)."),
        405: N_("This address does not accept that method."),
        413: N_("The request is too large."),
    }
    message = messages.get(status, exc.description or "")
    if not wants_json() and message == type(exc).description:
        # Werkzeug's own (English) text: the page says it in the reader's language.
        message = GENERIC_ERRORS.get(status, message)
    response = make_response(error_response(status, codes.get(status, "error"), message))
    for name, value in exc.get_headers():  # e.g. Allow on 405 (RFC 9110), Retry-After
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


#: The error pages' texts where Werkzeug's description would do (the API keeps Werkzeug's).
GENERIC_ERRORS = {
    400: N_("The request could not be understood."),
    401: N_("Please sign in first."),
    403: N_("You may not see this page or do this."),
    500: N_("Something went wrong on our side. Please try again in a moment."),
    503: N_("The service is not available right now. Please try again in a moment."),
}


def _csrf_error(exc: CSRFError) -> Any:
    return error_response(
        400,
        "csrf",
        N_("The form expired or did not come from this site. Reload the page and try again."),
    )


def _engine_unavailable(exc: EngineUnavailable) -> Any:
    response = make_response(
        error_response(
            503,
            "engine_unavailable",
            N_(
                "The ticket engine is not answering right now. Nothing was lost; please try "
                "again in a moment."
            ),
        )
    )
    response.headers["Retry-After"] = "5"
    return response


#: SQLSTATEs of InternalError that mean "the database takes no writes now" (read-only
#: transaction, a hot standby): a 503, like a database that is away. Others stay 500s.
READ_ONLY_STATES = {"25006", "25P02"}


def _database_unavailable(exc: Exception) -> Any:
    if isinstance(exc, InternalError) and _sqlstate(exc) not in READ_ONLY_STATES:
        raise exc
    current_app.logger.error("database unavailable: %s", exc)
    # The error page must not ask the database again (who is signed in, their language).
    g._login_user = login_manager.anonymous_user()
    session = g.pop("db", None)
    if session is not None:
        with suppress(Exception):
            session.close()
    response = make_response(
        error_response(
            503,
            "database_unavailable",
            N_("The database is not answering right now. Please try again in a moment."),
        )
    )
    response.headers["Retry-After"] = "5"
    return response


def _sqlstate(exc: Exception) -> str:
    return str(getattr(getattr(exc, "orig", None), "sqlstate", "") or "")


def _index() -> Any:
    from flask import redirect, url_for

    return redirect(url_for("desk.index"))
