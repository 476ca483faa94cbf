"""Refuse request bodies over the configured size with 413, before reading them."""

from collections.abc import Awaitable, Callable

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    """A body whose declared length is over the limit is answered by `refuse` without reading a
    byte of it, whoever sent it; a streamed body (no length given) is cut off with a 413 as soon as
    the bytes received pass the limit.

    Starlette's own limiter replaces any response to such a request with plain text; this one lets
    Mend answer its own problem document or error page, with the security headers.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, refuse: Callable[[Request, HTTPException], Awaitable[Response]]
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response = await self.refuse(Request(scope), HTTPException(413))
            await response(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413)  # answered by the app's handler, as any refusal
            return message

        await self.app(scope, receive_within_limit, send)
