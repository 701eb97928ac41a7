"""Work for a client that hung up is cancelled, not finished for no one.

The gateway gives up on a subgraph at its timeout and closes the connection; without
this the subgraph would go on running the request (database statements, calls to an
operator) and hold the pool's connections that other partners are waiting for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_HUNG_UP: Message = {"type": "http.disconnect"}


class _Exchange:
    """One request's messages: the client's, passed on to the app, then its hang-up."""

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        # One message ahead at most: the app's reading paces the client's body.
        self.messages: asyncio.Queue[Message] = asyncio.Queue(maxsize=1)
        self.body_read = False  # the app has had the whole body
        self.answered = False  # the last byte of the answer was sent
        self.gone = asyncio.Event()

    async def pump(self, work: asyncio.Task[None]) -> None:
        """Read what the client sends; when it hangs up before its answer, cancel ``work``."""
        reading = True
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                break
            if reading:
                await self.messages.put(message)
                reading = message.get("more_body", False)
        self.gone.set()
        if reading:
            await self.messages.put(_HUNG_UP)
        # The server also says "disconnect" once the answer is complete: that is no hang-up.
        if not self.answered:
            work.cancel()

    async def receive(self) -> Message:
        if self.body_read:
            # After the body there is nothing left to read but the hang-up.
            await self.gone.wait()
            return _HUNG_UP
        message = await self.messages.get()
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.body_read = True
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.answered = True
        await self._send(message)


class CancelOnDisconnect:
    """ASGI middleware: when the client hangs up before its answer, the request's work is
    cancelled (and with it the statements and operator calls it awaits).

    ``on_cancel`` is called for each request so cancelled (a counter, for metrics).
    """

    def __init__(self, app: ASGIApp, on_cancel: Callable[[], None] | None = None) -> None:
        self.app = app
        self.on_cancel = on_cancel

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(receive, send)

        async def serve() -> None:
            await self.app(scope, exchange.receive, exchange.send)

        work = asyncio.create_task(serve())
        pump = asyncio.create_task(exchange.pump(work))
        try:
            await work
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not exchange.gone.is_set() or (current is not None and current.cancelling()):
                raise  # the server itself is stopping this request
            if self.on_cancel is not None:
                self.on_cancel()
        finally:
            pump.cancel()
