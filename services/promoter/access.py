"""Who may use the REST API: bearer tokens with a role, stored hashed, revocable.

A token is ``rrt_`` and 43 random URL-safe characters (256 bits), shown once when it is
created (``ringrift promoter token create --role operator --name alice``); the database
keeps only its sha256 (a token this random needs no slow hash: nobody can guess one from
its digest). Roles are ordered: a ``reader`` may read, an ``operator`` may also
promote and roll back. The token's name is the actor of its actions in the audit log
and in the lifecycle events. Creating and revoking tokens are audited too.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ringrift.errors import ConfigurationError
from ringrift.storage.database import session_scope
from services.promoter.actions import audit
from services.promoter.registry import now, utc
from services.promoter.tables import ApiToken

log = logging.getLogger(__name__)
PREFIX = "rrt_"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_TOUCH_EVERY = timedelta(minutes=1)
"""How stale ``last_used_at`` may get: not every read request needs a write."""


class Role(StrEnum):
    READER = "reader"
    OPERATOR = "operator"

    def allows(self, needed: Role) -> bool:
        """Whether this role may do what ``needed`` may."""
        order = [Role.READER, Role.OPERATOR]
        return order.index(self) >= order.index(needed)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(session: Session, name: str, role: Role | str, *, created_by: str,
                 secret: str | None = None) -> tuple[ApiToken, str]:
    """A new live token; returns its row and its secret (shown once, never stored).

    Args:
        session: the promoter's database.
        name: who uses it (unique among live tokens; the actor in audit and events).
        role: ``reader`` or ``operator``.
        created_by: who creates it (for the audit log).
        secret: a given secret (provisioned by a deployment) instead of a random one.

    Raises:
        ConfigurationError: a bad name or role, a secret too short, or a live token of
            that name exists already.
    """
    if not _NAME.fullmatch(name):
        raise ConfigurationError(f"token name {name!r}: use 1-64 letters, digits, '.', '_', "
                                 "'@' or '-' (e.g. alice)")
    try:
        role = Role(role)
    except ValueError:
        raise ConfigurationError(f"role {role!r}: choose one of "
                                 f"{', '.join(r.value for r in Role)}") from None
    if secret is not None and len(secret) < 24:
        raise ConfigurationError("a provisioned token must have at least 24 characters; "
                                 "e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))'")
    if live_token(session, name) is not None:
        raise ConfigurationError(f"a live token named {name!r} exists; revoke it first "
                                 f"(ringrift promoter token revoke {name})")
    secret = secret or PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, role=role.value, token_hash=digest(secret), created_at=now())
    session.add(token)
    session.flush()
    audit(session, created_by, "token_create", "", "", f"{role.value} token {name}",
          token_id=token.id, role=role.value)
    return token, secret


def revoke_token(session: Session, name: str, *, revoked_by: str) -> ApiToken:
    """Revoke the live token called ``name`` (it stops working at once).

    Raises:
        ConfigurationError: there is no live token of that name.
    """
    token = live_token(session, name)
    if token is None:
        raise ConfigurationError(f"no live token named {name!r} (see ringrift promoter token "
                                 "list)")
    token.revoked_at = now()
    audit(session, revoked_by, "token_revoke", "", "", f"token {name}", token_id=token.id)
    return token


def provision_token(session: Session, name: str, role: Role, secret: str) -> bool:
    """Make ``secret`` the live token ``name`` (replacing an older secret of that name);
    returns whether anything changed. For a secret a deployment provides."""
    known = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    if known is not None and known.revoked_at is None and known.name == name and \
            known.role == role.value:
        return False
    if known is not None:
        raise ConfigurationError(f"the provisioned token secret is in use by token "
                                 f"{known.name!r} (revoked or not); provision a new secret")
    if live_token(session, name) is not None:
        revoke_token(session, name, revoked_by="provisioning")
    create_token(session, name, role, created_by="provisioning", secret=secret)
    return True


def authenticate(session: Session, secret: str) -> ApiToken | None:
    """The live token whose secret this is, or None (unknown or revoked). Only reads."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    if token is None or token.revoked_at is not None:
        return None
    return token


def needs_touch(token: ApiToken) -> bool:
    """Whether ``token.last_used_at`` is stale enough to be written again."""
    last = utc(token.last_used_at)
    return last is None or now() - last > _TOUCH_EVERY


def touch(session: Session, token_id: int) -> None:
    """Record that the token was used now."""
    token = session.get(ApiToken, token_id)
    if token is not None:
        token.last_used_at = now()


def live_token(session: Session, name: str) -> ApiToken | None:
    return session.scalar(select(ApiToken).where(ApiToken.name == name,
                                                 ApiToken.revoked_at.is_(None)))


def list_tokens(session: Session, *, include_revoked: bool = False) -> list[ApiToken]:
    statement = select(ApiToken).order_by(ApiToken.id)
    if not include_revoked:
        statement = statement.where(ApiToken.revoked_at.is_(None))
    return list(session.scalars(statement))


def at_start(engine: Engine, provisioned: tuple[str, str] | None) -> None:
    """What the service does with tokens at start: register the deployment's operator
    token (``(name, secret)``) if given, and say so when no token can use the API."""
    with session_scope(engine) as session:
        if provisioned is not None and provision_token(
                session, provisioned[0], Role.OPERATOR, provisioned[1]):
            log.info("registered the provisioned operator token %r", provisioned[0])
        if not list_tokens(session):
            log.warning("no API token exists: the REST API refuses every request until one "
                        "is created (ringrift promoter token create --role operator --name "
                        "NAME)")
