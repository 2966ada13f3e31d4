"""Agents and admins: passwords (hashed with werkzeug's scrypt), API tokens (stored hashed)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from statemachines.rights import ADMIN, DEFAULT_ROLE
from tempodesk.contracts import Actor
from tempodesk.core import audit, vault
from tempodesk.core.db import aware
from tempodesk.core.models import ApiToken, Group, Role, User, utcnow
from tempodesk.people.roles import acting_groups

TOKEN_PREFIX = "td_"
LAST_USED_RESOLUTION = timedelta(minutes=5)  # not a write per request


def create_user(
    session: Session,
    username: str,
    password: str,
    *,
    display_name: str = "",
    email: str = "",
    is_admin: bool = False,
    groups: list[str] | None = None,
    roles: list[str] | None = None,
) -> User:
    """A user with these roles (unless told: "admin" with ``is_admin``, else the default
    role) and groups."""
    user = User(
        username=username,
        display_name=display_name,
        email=email,
        password_hash=generate_password_hash(password),
    )
    names = list(roles if roles is not None else [] if is_admin else [DEFAULT_ROLE])
    names += [ADMIN] if is_admin else []
    user.roles = list(session.scalars(select(Role).where(Role.name.in_(names))))
    if groups:
        user.groups = list(session.scalars(select(Group).where(Group.name.in_(groups))))
    session.add(user)
    session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """Replace the user's password (only its hash is kept)."""
    user.password_hash = generate_password_hash(password)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, else None (in constant-ish time)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)  # spend the same time as a real check
        return None
    return user if check_password_hash(user.password_hash, password) else None


_DUMMY_HASH = generate_password_hash("not-a-password")


# Second factor (TOTP, RFC 6238) for admins: enrolled from the profile with an authenticator
# app; its secret is sealed at rest with the app's secret key.
TOTP_ISSUER = "Tempodesk"


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    """What an authenticator app scans (or opens) to add the account."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=TOTP_ISSUER)


def _code_step(secret: str, code: str) -> int | None:
    """The time step ``code`` belongs to (now, or one step either side for clock drift)."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time())
    for drift in (0, -1, 1):
        at = now + drift * totp.interval
        if hmac.compare_digest(totp.at(at), code):
            return at // totp.interval
    return None


def enable_totp(user: User, secret: str, code: str, app_secret: str) -> bool:
    """Turn the second factor on if ``code`` proves the app has ``secret``."""
    if _code_step(secret, code) is None:
        return False
    user.totp_secret = vault.seal(secret, app_secret)
    user.totp_last_step = 0
    return True


def check_totp(user: User, code: str, app_secret: str) -> bool:
    """Whether ``code`` is the user's current one (or the one before or after it), not used
    before: a code is spent by using it (RFC 6238, 5.2), so an overheard one is worthless."""
    if not user.totp_secret:
        return False
    step = _code_step(vault.unseal(user.totp_secret, app_secret), code)
    if step is None or step <= user.totp_last_step:
        return False
    user.totp_last_step = step
    return True


def disable_totp(user: User, code: str, app_secret: str) -> bool:
    """Turn the second factor off, proven by a current code."""
    if not check_totp(user, code, app_secret):
        return False
    user.totp_secret = ""
    return True


def token_digest(token: str) -> str:
    """What is stored of a token (and what a cache may key on): its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


SCOPES = ("api", "inbound", "ops", "sms")


def create_token(
    session: Session,
    user: User,
    name: str = "",
    scopes: tuple[str, ...] = ("api",),
    *,
    actor: str = "system",
    actor_kind: str = "system",
) -> str:
    """A new API token for ``user``; only its hash is kept, so it is shown once. The audit
    log records who created it (``actor``), for whom and with which scopes.

    Scopes: "api" acts as the user on the ticket API; "inbound" may only post raw mail to
    the inbound endpoint (give that one to your mail provider's webhook, nothing more); "ops"
    reads /readyz's details and /metrics (give it to the monitoring, nothing more); "sms" may
    only post SMS and delivery reports to ``/hooks/sms/generic`` (the SMS gateway).
    """
    unknown = set(scopes) - set(SCOPES)
    if unknown or not scopes:
        raise ValueError(f"Unknown token scope(s): {', '.join(sorted(unknown)) or 'none'}.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id, name=name, token_hash=token_digest(token), scopes=" ".join(scopes)
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        "token.create",
        actor=actor,
        actor_kind=actor_kind,
        object_type="token",
        object_id=row.id,
        after={"user": user.username, "name": name, "scopes": list(scopes)},
    )
    return token


def user_for_token(session: Session, token: str, scope: str = "api") -> User | None:
    """The active user behind a token that carries ``scope``, else None."""
    found = token_row(session, token)
    if found is None or scope not in found[0].scopes.split():
        return None
    return found[1]


def token_row(session: Session, token: str) -> tuple[ApiToken, User] | None:
    """A token that is not revoked and its active user, else None. Notes when it was last
    used (at most every few minutes: not a write per request)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(
        select(ApiToken)
        .where(ApiToken.token_hash == token_digest(token))
        .where(ApiToken.revoked.is_(False))
    )
    if row is None or not row.user.is_active:
        return None
    now = utcnow()
    last = aware(row.last_used_at)
    if last is None or now - last > LAST_USED_RESOLUTION:
        row.last_used_at = now
    return row, row.user


def actor_for(user: User) -> Actor:
    """The identity the workflow checks rights against: the groups the user acts in (their
    own and those under a group they supervise) and their rights."""
    rights = user.rights
    return Actor(
        username=user.username,
        groups=acting_groups(user),
        is_admin=ADMIN in rights,
        kind="agent",
        rights=rights,
    )
