"""A hard limit on the request bodies the API parses itself (JSON).

FastAPI reads a route's whole body before it validates it: a 50 MB document would be held in
memory before the 422. Every API router therefore uses `BoundedBodyRoute`, which reads the body
of a route with a body parameter first, refusing it (413, as a problem document) as soon as the
declared `Content-Length` or the bytes actually received pass `json_body_limit()`, so an
oversized body is never read to its end and no dependency (database, token) runs at all.

Routes that read their body themselves keep their own, larger limits: multipart uploads
(`transfer.read_upload`) and host audit run submissions (`transfer.read_json_body`). They
declare no body parameter, so this class leaves them alone.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.types import Message, Receive

from assay.api.openapi import problem_responses
from assay.config import settings
from assay.transfer import read_bounded_body


def json_body_limit() -> int:
    """Bytes of a JSON request body the API accepts (`ASSAY_MAX_JSON_BODY`)."""
    return settings().max_json_body


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the already-read body over once, then defers to the server's
    (which reports a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class BoundedBodyRoute(APIRoute):
    """An API route whose parsed body is bounded by `json_body_limit()` (see the module); the
    413 is documented on every route that takes a body."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        if self.body_field is not None:
            self.responses = {**problem_responses(413), **self.responses}

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler  # no body parameter: FastAPI reads nothing, the route decides

        async def bounded(request: Request) -> Response:
            body = await read_bounded_body(request, json_body_limit())
            return await handler(Request(request.scope, _replay(body, request.receive)))

        return bounded
