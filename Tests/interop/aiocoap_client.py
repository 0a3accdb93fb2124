"""One CoAP request from aiocoap (an independent client) to a daemon, for the interop tests."""

from __future__ import annotations

import asyncio

from aiocoap import Context, Message


async def exchange(uri: str, code, payload: bytes = b"", content_format: int | None = None,
                   accept: int | None = None, timeout: float = 10.0) -> Message:
    """Sends one request from a fresh client context; the response (or TimeoutError)."""
    context = await Context.create_client_context()
    try:
        message = Message(code=code, uri=uri, payload=payload)
        if content_format is not None:
            message.opt.content_format = content_format
        if accept is not None:
            message.opt.accept = accept
        return await asyncio.wait_for(context.request(message).response, timeout)
    finally:
        await context.shutdown()


def request(daemon, code, path: str, **kwargs) -> Message:
    """``exchange`` with the daemon's URI for ``path``, run to completion."""
    return asyncio.run(exchange(daemon.uri(path), code, **kwargs))
