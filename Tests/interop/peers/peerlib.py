"""Plumbing shared by the peer servers: event lines, addresses, aiocoap contexts, CoAP codes."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time

import aiocoap
from aiocoap.numbers.codes import Code


class Events:
    """JSON lines, one per event, flushed at once, to a file or to standard output."""

    def __init__(self, path: str | None = None):
        self.file = open(path, "a", buffering=1) if path else sys.stdout

    def emit(self, event: str, **fields) -> dict:
        record = {"event": event, **fields, "ts": round(time.time(), 3)}
        self.file.write(json.dumps(record, sort_keys=False) + "\n")
        self.file.flush()
        return record


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def parse_listen(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def remote_str(remote) -> str:
    """"127.0.0.1:56830" for an aiocoap UDP remote (the port always shown)."""
    sockaddr = getattr(remote, "sockaddr", None)
    if sockaddr is None:
        return str(remote)
    host = sockaddr[0]
    if host.startswith("::ffff:"):
        host = host[len("::ffff:"):]
    return f"[{host}]:{sockaddr[1]}" if ":" in host else f"{host}:{sockaddr[1]}"


def code_str(code) -> str:
    return Code(code).dotted


def parse_code(text: str) -> Code:
    cls, _, detail = str(text).partition(".")
    return Code(int(cls) << 5 | int(detail))


def query_params(request) -> dict[str, str | bool]:
    """Uri-Query options as a dict; a parameter without "=" maps to True (e.g. "Q")."""
    params: dict[str, str | bool] = {}
    for item in request.opt.uri_query:
        name, eq, value = item.partition("=")
        params[name] = value if eq else True
    return params


def payload_text(payload: bytes) -> str | dict:
    try:
        return payload.decode()
    except UnicodeDecodeError:
        return {"hex": payload.hex()}


async def server_context(site, host: str, port: int) -> tuple[aiocoap.Context, int]:
    """A UDP-only aiocoap context bound to host:port (port 0: any). Requests the context sends
    to a remote taken from an incoming request leave through this same socket."""
    context = await aiocoap.Context.create_server_context(site, bind=(host, port), transports=["udp6"])
    bound = port
    for interface in context.request_interfaces:
        message_interface = getattr(getattr(interface, "token_interface", None), "message_interface", None)
        if message_interface is not None and hasattr(message_interface, "_local_port"):
            bound = message_interface._local_port()
    return context, bound


def intercept_incoming(context: aiocoap.Context, handler) -> None:
    """Installs ``handler(message, manager)`` in front of aiocoap's message layer. When it returns
    True the message is consumed: aiocoap never sees it (no ACK, no response, no dedup entry).
    ``manager`` is aiocoap's MessageManager, for handlers that answer on their own (see reset)."""
    for interface in context.request_interfaces:
        manager = getattr(interface, "token_interface", None)
        if manager is None or not hasattr(manager, "dispatch_message"):
            continue
        original = manager.dispatch_message

        def filtered(message, original=original, manager=manager):
            if handler(message, manager):
                return
            original(message)

        manager.dispatch_message = filtered


def reset(message, manager) -> None:
    """Answers ``message`` with a Reset (RFC 7252 §4.2/4.3), e.g. an unwanted notification."""
    from aiocoap.numbers.codes import Code as _Code
    from aiocoap.numbers.types import Type

    rst = aiocoap.Message(_mtype=Type.RST, _mid=message.mid, code=_Code.EMPTY)
    rst.remote = message.remote
    manager._send_initially(rst)


async def run_until_signalled(stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
