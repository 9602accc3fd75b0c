"""How the REST API answers errors: one JSON shape, the status that says what went wrong.

Every error body is ``{"error": code, "message": text, "fields": [...]}``
(:class:`~services.promoter.schemas.ErrorBody`): the registry's own errors map to
their status here (unknown model 404; illegal transition or moved revision 409), bad
input to 422 with the fields at fault, a database that does not answer to 503 (retry),
and anything unexpected to 500 with the error logged, never a traceback in the answer.
Each answer is counted in ``ringrift_promoter_api_requests_total``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException

from ringrift.errors import RingriftError
from ringrift.storage.errors import DatabaseUnavailable
from services.promoter.actions import RevisionMoved
from services.promoter.lifecycle import IllegalTransition
from services.promoter.metrics import API_REQUESTS
from services.promoter.registry import UnknownModel

log = logging.getLogger(__name__)
_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 422: "invalid_request",
          503: "unavailable"}


class ApiError(RingriftError):
    """An answer other than success, with its status, code and message."""

    def __init__(self, status: int, code: str, message: str,
                 fields: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields


def error_response(error: ApiError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    body: dict[str, Any] = {"error": error.code, "message": error.message}
    if error.fields is not None:
        body["fields"] = error.fields
    return JSONResponse(jsonable_encoder(body), status_code=error.status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` answer in the API's JSON shape."""
    def mapped(status: int, code: str) -> Callable[[Request, Exception], Response]:
        return lambda _request, error: error_response(ApiError(status, code, str(error)))

    app.add_exception_handler(ApiError, lambda _r, error: error_response(error))  # type: ignore[arg-type]
    app.add_exception_handler(UnknownModel, mapped(404, "unknown_model"))
    app.add_exception_handler(IllegalTransition, mapped(409, "conflict"))
    app.add_exception_handler(RevisionMoved, mapped(409, "conflict"))
    for outage in (OperationalError, InterfaceError, DatabaseUnavailable):
        app.add_exception_handler(outage, _unavailable)
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _internal)
    app.middleware("http")(_count)


def _invalid(_request: Request, error: RequestValidationError) -> Response:
    fields = [{"location": list(item.get("loc", ())), "message": item.get("msg", ""),
               "type": item.get("type", "")} for item in error.errors()]
    summary = "; ".join(f"{'.'.join(str(part) for part in field['location'])}: "
                        f"{field['message']}" for field in fields)
    return error_response(ApiError(422, "invalid_request", f"invalid request: {summary}",
                                   fields))


def _http(_request: Request, error: HTTPException) -> Response:
    if error.status_code == 400:  # a body that is not even text: bad input like any other
        return error_response(ApiError(422, "invalid_request", f"invalid request: "
                                       f"{error.detail} (send a UTF-8 JSON body)"))
    return error_response(ApiError(error.status_code, _CODES.get(error.status_code, "error"),
                                   str(error.detail)))


def _unavailable(_request: Request, error: Exception) -> Response:
    log.warning("REST request failed, the database does not answer: %s",
                str(error).splitlines()[0])
    return error_response(ApiError(503, "unavailable", "the promoter's database does not "
                                   "answer; retry in a moment"))


def _internal(request: Request, error: Exception) -> Response:
    log.error("REST %s %s failed", request.method, request.url.path, exc_info=error)
    return error_response(ApiError(500, "internal", f"internal error ({type(error).__name__});"
                                   " the promoter's log has the details"))


async def _count(request: Request,
                 call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    if path and path.startswith("/api/"):
        API_REQUESTS.labels(request.method, path, str(response.status_code)).inc()
    return response
