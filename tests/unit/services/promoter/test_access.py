"""Tokens: created with a role, stored hashed, revocable, provisioned from a deployment's secret.

Checks: only the sha256 of a token is stored and the secret authenticates; a revoked
token does not; names are unique among live tokens (a revoked name may be reused); bad
names, roles and short provisioned secrets are refused naming the fix; provisioning is
idempotent and replaces the secret of its name; roles are ordered; creating and revoking
are audited.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from ringrift.errors import ConfigurationError
from ringrift.storage.database import session_scope
from services.promoter import access
from services.promoter.access import Role
from services.promoter.tables import ApiToken, AuditEntry


def create(engine: Engine, name: str, role: str = "operator", **options) -> str:
    with session_scope(engine) as session:
        return access.create_token(session, name, role, created_by="admin", **options)[1]


def who(engine: Engine, secret: str) -> tuple[str, str] | None:
    with session_scope(engine, read_only=True) as session:
        token = access.authenticate(session, secret)
        return (token.name, token.role) if token else None


def test_tokens_are_stored_hashed_and_revocable(engine: Engine) -> None:
    secret = create(engine, "alice")
    assert secret.startswith("rrt_") and len(secret) > 40
    with session_scope(engine, read_only=True) as session:
        [row] = session.scalars(select(ApiToken))
        assert row.token_hash == access.digest(secret) and secret not in row.token_hash
    assert who(engine, secret) == ("alice", "operator")
    assert who(engine, secret + "x") is None
    with session_scope(engine) as session:
        access.revoke_token(session, "alice", revoked_by="admin")
    assert who(engine, secret) is None
    again = create(engine, "alice", "reader")  # the name is free again
    assert who(engine, again) == ("alice", "reader")
    with session_scope(engine, read_only=True) as session:
        actions = [(row.actor, row.action) for row in session.scalars(select(AuditEntry))]
    assert actions == [("admin", "token_create"), ("admin", "token_revoke"),
                       ("admin", "token_create")]


def test_bad_tokens_are_refused_naming_the_fix(engine: Engine) -> None:
    create(engine, "alice")
    for name, role, options, text in (
            ("alice", "reader", {}, "revoke it first"),
            ("bad name", "reader", {}, "use 1-64 letters"),
            ("bob", "admin", {}, "choose one of reader, operator"),
            ("bob", "reader", {"secret": "short"}, "at least 24 characters")):
        with pytest.raises(ConfigurationError, match=text):
            create(engine, name, role, **options)
    with pytest.raises(ConfigurationError, match="no live token named 'carol'"), \
            session_scope(engine) as session:
        access.revoke_token(session, "carol", revoked_by="admin")


def test_provisioning_is_idempotent_and_replaces_the_secret(engine: Engine) -> None:
    first, second = "s" * 32, "t" * 32
    for secret, changed in ((first, True), (first, False), (second, True)):
        with session_scope(engine) as session:
            assert access.provision_token(session, "deploy", Role.OPERATOR, secret) is changed
    assert who(engine, first) is None
    assert who(engine, second) == ("deploy", "operator")
    with pytest.raises(ConfigurationError, match="in use by token"), \
            session_scope(engine) as session:
        access.provision_token(session, "other", Role.OPERATOR, first)


def test_roles_are_ordered() -> None:
    assert Role.OPERATOR.allows(Role.READER) and Role.OPERATOR.allows(Role.OPERATOR)
    assert Role.READER.allows(Role.READER) and not Role.READER.allows(Role.OPERATOR)
