"""``ringrift models`` (the promoter's REST API from a shell) and ``ringrift promoter token``.

    ringrift models status [CONFIG]                  # pipeline status per config
    ringrift models list square8_2p [--state promoted]
    ringrift models show rr-1a2b...
    ringrift models promote rr-1a2b... --reason "beat the current one in review"
    ringrift models rollback square8_2p [--to rr-...] --reason "regressed"
    ringrift promoter token create --role operator --name alice   # prints the token once
    ringrift promoter token list | revoke NAME

``models`` talks to the API at ``--url`` (env ``RINGRIFT_PROMOTER_URL``, default
``http://127.0.0.1:8105``) with ``--token`` (env ``RINGRIFT_PROMOTER_TOKEN``), the same
endpoints and checks as any other client; ``--json`` prints the answer as it came.
``token`` works on the promoter's own database (``--database-url``, env
``RINGRIFT_PROMOTER_DATABASE_URL``, default ``sqlite:///var/db/promoter.db``).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8105"


def register(subparsers: argparse._SubParsersAction) -> None:
    _register_models(subparsers)
    _register_tokens(subparsers)


def _register_models(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models", help="list, show, promote and roll back models (the promoter's REST API)",
        description="Talk to the promoter's REST API: the model registry per config, pipeline "
        "status, manual promotion and rollback (an operator's token).")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=os.environ.get("RINGRIFT_PROMOTER_URL", DEFAULT_URL),
                        help=f"the promoter (env RINGRIFT_PROMOTER_URL; default {DEFAULT_URL})")
    common.add_argument("--token", default=os.environ.get("RINGRIFT_PROMOTER_TOKEN"),
                        help="a bearer token (env RINGRIFT_PROMOTER_TOKEN)")
    common.add_argument("--json", action="store_true", help="print the API's JSON answer")
    actions = parser.add_subparsers(dest="models_action", metavar="ACTION", required=True)

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        return actions.add_parser(name, help=help_text, description=help_text.capitalize(),
                                  parents=[common])

    status = action("status", "pipeline status of one config or all")
    status.add_argument("config", nargs="?", help="e.g. square8_2p (default: every config)")
    listing = action("list", "a config's models, newest first")
    listing.add_argument("config")
    listing.add_argument("--state", help="only models in this state (e.g. promoted)")
    listing.add_argument("--limit", type=int, default=100)
    show = action("show", "one model: weights, lineage, history, evaluations")
    show.add_argument("model_id")
    promote = action("promote", "make a model its config's current model")
    promote.add_argument("model_id")
    rollback = action("rollback", "make an earlier current model current again")
    rollback.add_argument("config")
    rollback.add_argument("--to", dest="model_id", help="the model (default: the one current "
                          "before the current one)")
    for change in (promote, rollback):
        change.add_argument("--reason", required=True, help="why (kept in the audit log)")
        change.add_argument("--expected-revision", type=int, help="act only if the config is "
                            "still at this revision (see `models status`)")
    parser.set_defaults(func=run_models)


def run_models(args: argparse.Namespace) -> int:
    import httpx

    from ringrift.errors import ConfigurationError, RingriftError

    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    action = args.models_action
    body: dict[str, Any] = {"reason": getattr(args, "reason", "")}
    if getattr(args, "expected_revision", None) is not None:
        body["expected_revision"] = args.expected_revision
    if action == "status":
        request = ("GET", f"/configs/{args.config}" if args.config else "/configs", None, None)
    elif action == "list":
        params = {"limit": args.limit} | ({"state": args.state} if args.state else {})
        request = ("GET", f"/configs/{args.config}/models", params, None)
    elif action == "show":
        request = ("GET", f"/models/{args.model_id}", None, None)
    elif action == "promote":
        request = ("POST", f"/models/{args.model_id}/promote", None, body)
    else:
        body |= {"model_id": args.model_id} if args.model_id else {}
        request = ("POST", f"/configs/{args.config}/rollback", None, body)
    method, path, params, payload = request
    try:
        response = httpx.request(method, args.url.rstrip("/") + "/api/v1" + path, params=params,
                                 json=payload, headers=headers, timeout=30)
    except httpx.HTTPError as error:
        raise RingriftError(f"cannot reach the promoter at {args.url}: {error} (--url, env "
                            "RINGRIFT_PROMOTER_URL)") from None
    answer = response.json() if response.headers.get("content-type", "").startswith(
        "application/json") else {"message": response.text}
    if response.status_code >= 400:
        hint = " (--token, env RINGRIFT_PROMOTER_TOKEN)" if response.status_code in (401, 403) \
            else ""
        message = f"{response.status_code}: {answer.get('message', answer)}{hint}"
        raise (ConfigurationError if response.status_code in (401, 403, 422)
               else RingriftError)(message)
    if args.json:
        print(json.dumps(answer, indent=2))
        return 0
    from services.promoter import cli_format

    print(cli_format.render(action, answer))
    return 0


def _register_tokens(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "promoter", help="the promoter's API tokens (create, list, revoke)",
        description="Manage the bearer tokens of the promoter's REST API in its database. "
        "Tokens are stored hashed: a new token is printed once, keep it.")
    tools = parser.add_subparsers(dest="promoter_tool", metavar="TOOL", required=True)
    token = tools.add_parser("token", help="create, list or revoke API tokens")
    actions = token.add_subparsers(dest="token_action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="a new token; prints it once")
    create.add_argument("--name", required=True, help="who uses it (the actor in the audit log)")
    create.add_argument("--role", required=True, choices=["reader", "operator"],
                        help="reader: read endpoints; operator: also promote and roll back")
    listing = actions.add_parser("list", help="live tokens (names, roles, last use)")
    listing.add_argument("--all", action="store_true", help="revoked ones too")
    revoke = actions.add_parser("revoke", help="revoke the live token NAME at once")
    revoke.add_argument("name")
    for action in (create, listing, revoke):
        action.add_argument("--database-url", default=None, help="the promoter's database "
                            "(env RINGRIFT_PROMOTER_DATABASE_URL; default "
                            "sqlite:///var/db/promoter.db)")
    parser.set_defaults(func=run_tokens)


def run_tokens(args: argparse.Namespace) -> int:
    from ringrift.service.names import ServiceName
    from ringrift.storage.database import make_engine, session_scope
    from ringrift.storage.migrations import check_at_head
    from services.promoter import access

    name = ServiceName("promoter")
    url = args.database_url or os.environ.get(f"{name.env_prefix}DATABASE_URL") or \
        name.default_database_url
    check_at_head(url, name.name)
    engine = make_engine(url)
    me = f"cli:{getpass.getuser()}"
    try:
        with session_scope(engine, read_only=args.token_action == "list") as session:
            if args.token_action == "create":
                token, secret = access.create_token(session, args.name, args.role, created_by=me)
                print(secret)
                print(f"created {token.role} token {token.name!r}; it is shown only now "
                      "(use it as: Authorization: Bearer <token>)", file=sys.stderr)
            elif args.token_action == "revoke":
                access.revoke_token(session, args.name, revoked_by=me)
                print(f"revoked token {args.name!r}")
            else:
                for token in access.list_tokens(session, include_revoked=args.all):
                    state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at \
                        else "live"
                    used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at \
                        else "never"
                    print(f"{token.name:24} {token.role:9} {state:22} last used {used}")
    finally:
        engine.dispose()
    return 0
