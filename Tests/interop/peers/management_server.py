#!/usr/bin/env python3
"""An LwM2M 1.1 (management) Server for the interop tests and the demo (plain CoAP over UDP).

    management_server.py --listen 127.0.0.1:PORT [--reject-registrations N [--reject-code 4.03]]
                         [--events FILE]

Registration interface (device -> server): Register POST /rd?ep=..&lt=..&lwm2m=..&b=.. with a
link-format payload -> 2.01 + Location-Path rd/<id>; Update POST /rd/<id> -> 2.04; De-register
DELETE /rd/<id> -> 2.02. Device management (server -> device) is driven by JSON commands on
standard input, one per line, each answered by one JSON line on standard output carrying the
command's "id". Requests go to the source address of the device's last Register/Update, from the
server's own socket. See README.md for the commands and events.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time

import aiocoap
import aiocoap.resource as resource

import codec
import linkformat
from peerlib import (Events, code_str, intercept_incoming, log, parse_code, parse_listen, payload_text,
                     query_params, remote_str, reset, run_until_signalled, server_context)

LWM2M_VERSIONS = ("1.0", "1.1", "1.2")
DEFAULT_LIFETIME = 86400  # TS 1.1 §6.2.1: lt absent -> 86400 s
BINDING_LETTERS = set("UTSNQ")


class Registration:
    def __init__(self, reg_id: str, ep: str, remote, params: dict, links: list[dict]):
        self.id = reg_id
        self.ep = ep
        self.remote = remote
        self.lifetime = DEFAULT_LIFETIME
        self.lwm2m = "1.0"
        self.binding = "U"
        self.queue = False
        self.sms = None
        self.links: list[dict] = []
        self.root = "/"
        self.objects: dict[int, list[int]] = {}
        self.versions: dict[int, str] = {}
        self.registered_at = time.time()
        self.updated_at = self.registered_at
        self.expiry: asyncio.Task | None = None
        self.apply(params, links)

    def apply(self, params: dict, links: list[dict] | None) -> None:
        if "lt" in params:
            self.lifetime = int(params["lt"])
        if "lwm2m" in params:
            self.lwm2m = params["lwm2m"]
        if "b" in params:
            self.binding = params["b"]
        if "sms" in params:
            self.sms = params["sms"]
        self.queue = "Q" in params or "Q" in self.binding
        if links is not None:
            self.links = links
            self.root, self.objects, self.versions = linkformat.registered_objects(links)

    def device_path(self, path: str) -> tuple[str, ...]:
        """Uri-Path options of an LwM2M path on this device (under its alternate root, if any)."""
        return tuple(part for part in (self.root.rstrip("/") + path).split("/") if part)

    def to_json(self) -> dict:
        return {"ep": self.ep, "id": self.id, "location": f"/rd/{self.id}", "lt": self.lifetime,
                "lwm2m": self.lwm2m, "binding": self.binding, "queue": self.queue, "sms": self.sms,
                "root": self.root, "objects": {str(k): v for k, v in self.objects.items()},
                "versions": {str(k): v for k, v in self.versions.items()},
                "remote": remote_str(self.remote), "links": self.links}


class BadRequest(Exception):
    def __init__(self, code, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


def validate(params: dict, request, register: bool) -> list[dict] | None:
    """Checks Register/Update parameters; returns the parsed payload links (None if no payload)."""
    if register:
        ep = params.get("ep")
        if not isinstance(ep, str) or not ep:
            raise BadRequest(aiocoap.BAD_REQUEST, "missing ep")
        version = params.get("lwm2m", "1.0")
        if version not in LWM2M_VERSIONS:
            raise BadRequest(aiocoap.PRECONDITION_FAILED, f"unsupported lwm2m version {version}")
    if "lt" in params:
        if not str(params["lt"]).isdigit() or int(params["lt"]) <= 0:
            raise BadRequest(aiocoap.BAD_REQUEST, f"bad lt {params['lt']!r}")
    if "b" in params:
        if not isinstance(params["b"], str) or not params["b"] or not set(params["b"]) <= BINDING_LETTERS:
            raise BadRequest(aiocoap.BAD_REQUEST, f"bad binding {params['b']!r}")
    if not request.payload:
        if register:
            raise BadRequest(aiocoap.BAD_REQUEST, "Register needs a link-format payload")
        return None
    if request.opt.content_format != codec.LINK_FORMAT:
        raise BadRequest(aiocoap.BAD_REQUEST,
                         f"payload Content-Format {request.opt.content_format}, expected 40 (link-format)")
    try:
        return linkformat.parse(request.payload.decode())
    except (UnicodeDecodeError, linkformat.LinkFormatError) as error:
        raise BadRequest(aiocoap.BAD_REQUEST, f"bad link-format payload: {error}") from None


class ManagementServer:
    def __init__(self, args, events: Events):
        self.args = args
        self.events = events
        self.context: aiocoap.Context | None = None
        self.reject_left = args.reject_registrations
        self.reject_code = parse_code(args.reject_code)
        self.by_id: dict[str, Registration] = {}
        self.by_ep: dict[str, Registration] = {}
        self.ids = itertools.count(1)
        self.observation_ids = itertools.count(1)
        self.observations: dict[int, dict] = {}
        self.registered = asyncio.Condition()
        self.reset_tokens: dict[tuple[bytes, str], int] = {}  # cancelled with mode "reset"

    def reset_notifications(self, message, manager) -> bool:
        """Answers a notification of an observation cancelled with mode "reset" with a Reset, CON or
        NON alike (aiocoap would reset a CON but silently ignore a NON one)."""
        if not message.code.is_response():
            return False
        obs_id = self.reset_tokens.get((message.token, remote_str(message.remote)))
        if obs_id is None:
            return False
        reset(message, manager)
        self.events.emit("observe-reset", observation=obs_id, remote=remote_str(message.remote),
                         mtype=str(message.mtype), observe=message.opt.observe)
        return True

    # MARK: Registration interface

    async def register(self, request) -> aiocoap.Message:
        params = query_params(request)
        remote = remote_str(request.remote)
        try:
            links = validate(params, request, register=True)
        except BadRequest as error:
            self.events.emit("register-rejected", ep=params.get("ep"), remote=remote, code=code_str(error.code),
                             reason=error.reason, params=params)
            return aiocoap.Message(code=error.code, payload=error.reason.encode())
        if self.reject_left > 0:
            self.reject_left -= 1
            self.events.emit("register-rejected", ep=params["ep"], remote=remote, code=code_str(self.reject_code),
                             reason="--reject-registrations", left=self.reject_left)
            return aiocoap.Message(code=self.reject_code)
        old = self.by_ep.pop(params["ep"], None)
        if old is not None:
            self.forget(old)
        reg = Registration(str(next(self.ids)), params["ep"], request.remote, params, links)
        self.by_id[reg.id] = reg
        self.by_ep[reg.ep] = reg
        self.arm_expiry(reg)
        self.events.emit("register", **reg.to_json(), params=params, replaces=old.id if old else None)
        async with self.registered:
            self.registered.notify_all()
        return aiocoap.Message(code=aiocoap.CREATED, location_path=("rd", reg.id))

    async def update(self, request, reg_id: str) -> aiocoap.Message:
        reg = self.by_id.get(reg_id)
        params = query_params(request)
        if reg is None:
            self.events.emit("update-rejected", id=reg_id, remote=remote_str(request.remote), code="4.04")
            return aiocoap.Message(code=aiocoap.NOT_FOUND)
        try:
            links = validate(params, request, register=False)
        except BadRequest as error:
            self.events.emit("update-rejected", id=reg_id, ep=reg.ep, code=code_str(error.code), reason=error.reason)
            return aiocoap.Message(code=error.code, payload=error.reason.encode())
        moved = remote_str(request.remote) != remote_str(reg.remote)
        reg.remote = request.remote  # the device may have a new address (NAT rebinding)
        reg.apply(params, links)
        reg.updated_at = time.time()
        self.arm_expiry(reg)
        self.events.emit("update", **reg.to_json(), params=params, payload=links is not None, remote_changed=moved)
        return aiocoap.Message(code=aiocoap.CHANGED)

    async def deregister(self, request, reg_id: str) -> aiocoap.Message:
        reg = self.by_id.get(reg_id)
        if reg is None:
            self.events.emit("deregister-rejected", id=reg_id, remote=remote_str(request.remote), code="4.04")
            return aiocoap.Message(code=aiocoap.NOT_FOUND)
        self.forget(reg)
        self.events.emit("deregister", ep=reg.ep, id=reg.id, remote=remote_str(request.remote))
        return aiocoap.Message(code=aiocoap.DELETED)

    def arm_expiry(self, reg: Registration) -> None:
        """Removes the registration when its lifetime (plus --expiry-grace) passes without Update."""
        if reg.expiry is not None:
            reg.expiry.cancel()

        async def expire():
            await asyncio.sleep(reg.lifetime + self.args.expiry_grace)
            if self.by_id.get(reg.id) is reg:
                self.forget(reg)
                self.events.emit("registration-expired", ep=reg.ep, id=reg.id, lt=reg.lifetime)

        reg.expiry = asyncio.create_task(expire())

    def forget(self, reg: Registration) -> None:
        self.by_id.pop(reg.id, None)
        if self.by_ep.get(reg.ep) is reg:
            del self.by_ep[reg.ep]
        if reg.expiry is not None and reg.expiry is not asyncio.current_task():
            reg.expiry.cancel()
        self.drop_observations(reg)

    def drop_observations(self, reg: Registration) -> None:
        for obs_id, obs in list(self.observations.items()):
            if obs["reg"] is reg:
                obs["task"].cancel()
                if not obs["request"].observation.cancelled:
                    obs["request"].observation.cancel()
                self.observations.pop(obs_id, None)

    # MARK: Device management (commands)

    def reg_for(self, command: dict) -> Registration:
        reg = self.by_ep.get(command.get("ep"))
        if reg is None:
            raise CommandError(f"endpoint {command.get('ep')!r} is not registered")
        return reg

    async def device_request(self, command: dict, code, payload: bytes = b"", content_format=None,
                             accept=None, query=(), observe=None):
        reg = self.reg_for(command)
        path = command.get("path", "/")
        codec.parse_path(path)
        message = aiocoap.Message(code=code, uri_path=reg.device_path(path), payload=payload)
        if content_format is not None:
            message.opt.content_format = content_format
        if accept is not None:
            message.opt.accept = accept
        if query:
            message.opt.uri_query = tuple(query)
        if observe is not None:
            message.opt.observe = observe
        message.remote = reg.remote
        request = self.context.request(message)
        timeout = float(command.get("timeout", self.args.request_timeout))
        try:
            response = await asyncio.wait_for(request.response, timeout)
        except asyncio.TimeoutError:
            raise CommandError(f"no answer from {reg.ep} within {timeout}s") from None
        return request, response

    def describe(self, path: str, response) -> dict:
        """code, format and the decoded value (or payload) of a device's response."""
        out = {"code": code_str(response.code), "format": response.opt.content_format}
        if response.code.is_successful() and response.payload:
            fmt = response.opt.content_format
            if fmt == codec.LINK_FORMAT:
                text = response.payload.decode(errors="replace")
                out.update(payload=text, links=linkformat.parse(text))
            else:
                try:
                    out["value"] = codec.decode(path, response.payload, fmt)
                except Exception as error:
                    out.update(decode_error=repr(error), payload={"hex": response.payload.hex()})
        elif response.payload:
            out["payload"] = payload_text(response.payload)
        if response.opt.location_path:
            out["location"] = "/" + "/".join(response.opt.location_path)
        return out

    async def op_read(self, command):
        accept = command.get("accept")
        accept = codec.format_number(accept) if accept is not None else None
        _, response = await self.device_request(command, aiocoap.GET, accept=accept)
        return self.describe(command.get("path", "/"), response)

    async def op_discover(self, command):
        _, response = await self.device_request(command, aiocoap.GET, accept=codec.LINK_FORMAT)
        return self.describe(command.get("path", "/"), response)

    async def op_write(self, command):
        fmt = codec.format_number(command.get("format", "tlv"))
        payload = codec.encode(command["path"], command["value"], fmt, bool(command.get("wrap")))
        method = aiocoap.POST if command.get("method", "replace") in ("update", "partial", "post") else aiocoap.PUT
        _, response = await self.device_request(command, method, payload, content_format=fmt)
        return self.describe(command["path"], response)

    async def op_write_file(self, command):
        """Write of an opaque resource whose value is the content of the local file "file"
        (application/octet-stream): a large value (a firmware package) goes out as Block1
        blocks (aiocoap's block-wise request, 1024-byte blocks)."""
        with open(command["file"], "rb") as source:
            payload = source.read()
        reg = self.reg_for(command)
        path = command["path"]
        codec.parse_path(path)
        message = aiocoap.Message(code=aiocoap.PUT, uri_path=reg.device_path(path), payload=payload,
                                  content_format=codec.OPAQUE)
        message.remote = reg.remote
        request = self.context.request(message)
        timeout = float(command.get("timeout", self.args.request_timeout))
        started = time.monotonic()
        try:
            response = await asyncio.wait_for(request.response, timeout)
        except asyncio.TimeoutError:
            raise CommandError(f"no answer from {reg.ep} within {timeout}s") from None
        out = self.describe(path, response)
        out["seconds"] = round(time.monotonic() - started, 3)
        return out

    async def op_write_block(self, command):
        """One Block1 block of a Write of an opaque resource, sent on its own (no block-wise
        handling): block "block" of the file "file" in blocks of 16 << "szx" bytes (default 6:
        1024), M set unless it is the last. Returns the device's answer as it is, with its Block1
        ("block1": [num, more, szx]) when it carries one: what a server continuing an upload sees."""
        from aiocoap.optiontypes import BlockOption
        szx = int(command.get("szx", 6))
        number = int(command["block"])
        size = 16 << szx
        with open(command["file"], "rb") as source:
            source.seek(number * size)
            chunk = source.read(size)
            more = source.read(1) != b""
        reg = self.reg_for(command)
        path = command["path"]
        codec.parse_path(path)
        message = aiocoap.Message(code=aiocoap.PUT, uri_path=reg.device_path(path), payload=chunk,
                                  content_format=codec.OPAQUE)
        message.opt.block1 = BlockOption.BlockwiseTuple(number, more, szx)
        message.remote = reg.remote
        request = self.context.request(message, handle_blockwise=False)
        timeout = float(command.get("timeout", self.args.request_timeout))
        try:
            response = await asyncio.wait_for(request.response, timeout)
        except asyncio.TimeoutError:
            raise CommandError(f"no answer from {reg.ep} within {timeout}s") from None
        out = self.describe(path, response)
        block1 = response.opt.block1
        if block1 is not None:
            out["block1"] = [block1.block_number, bool(block1.more), block1.size_exponent]
        return out

    async def op_create(self, command):
        fmt = codec.format_number(command.get("format", "tlv"))
        ids = codec.parse_path(command["path"])
        if len(ids) != 1:
            raise CommandError("create takes an object path such as /3303")
        payload = codec.encode(command["path"], command["value"], fmt)
        _, response = await self.device_request(command, aiocoap.POST, payload, content_format=fmt)
        return self.describe(command["path"], response)

    async def op_delete(self, command):
        _, response = await self.device_request(command, aiocoap.DELETE)
        return self.describe(command["path"], response)

    async def op_execute(self, command):
        args = command.get("args")
        payload = args.encode() if isinstance(args, str) else b""
        _, response = await self.device_request(command, aiocoap.POST, payload)
        return self.describe(command["path"], response)

    async def op_write_attributes(self, command):
        query = []
        for name, value in command.get("attributes", {}).items():
            query.append(name if value is None else f"{name}={value}")
        _, response = await self.device_request(command, aiocoap.PUT, query=query)
        return self.describe(command["path"], response)

    async def op_observe(self, command):
        accept = command.get("accept")
        accept = codec.format_number(accept) if accept is not None else None
        request, response = await self.device_request(command, aiocoap.GET, accept=accept, observe=0)
        path = command.get("path", "/")
        out = self.describe(path, response)
        observing = response.code.is_successful() and response.opt.observe is not None
        out["observing"] = observing
        if not observing:
            return out
        obs_id = next(self.observation_ids)
        reg = self.reg_for(command)
        out["observation"] = obs_id
        out["observe"] = response.opt.observe
        obs = {"reg": reg, "path": path, "request": request, "token": response.token, "accept": accept}
        obs["task"] = asyncio.create_task(self.follow(obs_id, obs))
        self.observations[obs_id] = obs
        return out

    async def follow(self, obs_id: int, obs: dict) -> None:
        reason = "ended"
        try:
            async for notification in obs["request"].observation:
                self.events.emit("notify", observation=obs_id, ep=obs["reg"].ep,
                                 observe=notification.opt.observe, **self.describe(obs["path"], notification))
        except asyncio.CancelledError:
            reason = "cancelled"
        except Exception as error:  # the device answered a notification with an error, or went away
            reason = repr(error)
        self.events.emit("observe-ended", observation=obs_id, ep=obs["reg"].ep, path=obs["path"], reason=reason)

    async def op_cancel_observe(self, command):
        obs = self.observations.pop(command.get("observation"), None)
        if obs is None:
            raise CommandError(f"no observation {command.get('observation')!r}")
        mode = command.get("mode", "get")
        obs["task"].cancel()
        if not obs["request"].observation.cancelled:
            obs["request"].observation.cancel()  # stop following it on our side
        if mode == "reset":
            self.reset_tokens[(obs["token"], remote_str(obs["reg"].remote))] = command["observation"]
            return {"mode": "reset"}
        if mode != "get":
            raise CommandError("mode is get (GET with Observe=1 and the same token) or reset")
        # RFC 7641 §3.6 / LwM2M Cancel Observation: GET with Observe=1 and the observation's token.
        # aiocoap always picks a fresh token, so hand it the old one for exactly the next request.
        token_managers = [ri for ri in self.context.request_interfaces if hasattr(ri, "next_token")]
        for manager in token_managers:
            original = manager.next_token

            def once(manager=manager, original=original):
                manager.next_token = original
                return obs["token"]

            manager.next_token = once
        cancel = dict(command, ep=obs["reg"].ep, path=obs["path"])
        try:
            _, response = await self.device_request(cancel, aiocoap.GET, accept=obs["accept"], observe=1)
        finally:
            for manager in token_managers:
                manager.__dict__.pop("next_token", None)
        out = self.describe(obs["path"], response)
        out.update(mode="get", token_reused=response.token == obs["token"])
        return out

    async def op_wait_registered(self, command):
        ep = command.get("ep")
        timeout = float(command.get("timeout", 10))
        after = command.get("after")  # a registration id: wait for a newer registration

        def current():
            reg = self.by_ep.get(ep)
            return reg if reg is not None and (after is None or int(reg.id) > int(after)) else None

        try:
            async with self.registered:
                await asyncio.wait_for(self.registered.wait_for(current), timeout)
        except asyncio.TimeoutError:
            raise CommandError(f"{ep} did not register within {timeout}s") from None
        return {"registration": current().to_json()}

    async def op_registrations(self, command):
        return {"registrations": [reg.to_json() for reg in self.by_ep.values()]}

    async def handle(self, line: str) -> None:
        try:
            command = json.loads(line)
            if not isinstance(command, dict):
                raise ValueError("a command is a JSON object")
        except ValueError as error:
            self.reply({"id": None, "ok": False, "error": f"bad command: {error}"})
            return
        op = str(command.get("op", ""))
        handler = getattr(self, "op_" + op.replace("-", "_"), None)
        reply = {"id": command.get("id"), "op": op}
        if handler is None:
            reply.update(ok=False, error=f"unknown op {op!r}")
        else:
            try:
                reply.update(ok=True, **await handler(command))
            except KeyError as error:
                reply.update(ok=False, error=f"missing field {error}")
            except (CommandError, codec.CodecError, ValueError, aiocoap.error.Error) as error:
                reply.update(ok=False, error=str(error) or repr(error))
            except Exception as error:  # a bug or an odd value: still exactly one reply
                reply.update(ok=False, error=repr(error))
        self.reply(reply)

    def reply(self, reply: dict) -> None:
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


class CommandError(Exception):
    pass


class RdResource(resource.Resource):
    """/rd and /rd/<id> (aiocoap hands the whole path to a root that is not a Site)."""

    def __init__(self, server: ManagementServer):
        super().__init__()
        self.server = server

    async def render(self, request):
        path = tuple(request.opt.uri_path)
        if path == ("rd",) and request.code == aiocoap.POST:
            return await self.server.register(request)
        if len(path) == 2 and path[0] == "rd":
            if request.code == aiocoap.POST:
                return await self.server.update(request, path[1])
            if request.code == aiocoap.DELETE:
                return await self.server.deregister(request, path[1])
            return aiocoap.Message(code=aiocoap.METHOD_NOT_ALLOWED)
        return aiocoap.Message(code=aiocoap.NOT_FOUND)


async def read_commands(server: ManagementServer) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    tasks = set()
    while True:
        line = await reader.readline()
        if not line:
            break  # EOF: keep serving registrations until SIGTERM
        if line.strip():
            task = asyncio.create_task(server.handle(line.decode()))
            tasks.add(task)
            task.add_done_callback(tasks.discard)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", default="127.0.0.1:5683", help="HOST:PORT to bind (port 0: any free port)")
    parser.add_argument("--events", help="append events to this file instead of standard output")
    parser.add_argument("--reject-registrations", type=int, default=0, metavar="N",
                        help="answer the first N valid Register requests with --reject-code")
    parser.add_argument("--reject-code", default="4.03")
    parser.add_argument("--expiry-grace", type=float, default=2.0,
                        help="seconds past a registration's lifetime before it expires")
    parser.add_argument("--request-timeout", type=float, default=10.0,
                        help="default seconds to wait for the device's answer to a command")
    parser.add_argument("--ack-timeout", type=float, default=None,
                        help="CoAP ACK_TIMEOUT of the server's requests, seconds (default aiocoap's 2)")
    parser.add_argument("--max-retransmit", type=int, default=None,
                        help="CoAP MAX_RETRANSMIT of the server's requests (default aiocoap's 4)")
    parser.add_argument("--retransmit-cap", type=float, default=None,
                        help="retransmission timeouts stop doubling at this many seconds (a test through "
                             "a very lossy link that must not take minutes; default: no cap, RFC 7252)")
    return parser.parse_args(argv)


def apply_transmission_parameters(args) -> None:
    """--ack-timeout / --max-retransmit / --retransmit-cap: the defaults of every message this server sends (its
    requests and their Block1 blocks), e.g. for a test through a lossy link."""
    from aiocoap.numbers.constants import TransportTuning
    if args.ack_timeout is not None:
        TransportTuning.ACK_TIMEOUT = args.ack_timeout
    if args.max_retransmit is not None:
        TransportTuning.MAX_RETRANSMIT = args.max_retransmit
    if args.retransmit_cap is not None:
        from aiocoap.messagemanager import MessageManager
        schedule = MessageManager._schedule_retransmit
        cap = args.retransmit_cap

        def capped(self, message, timeout, counter):
            return schedule(self, message, min(timeout, cap), counter)

        MessageManager._schedule_retransmit = capped


async def serve(args) -> int:
    apply_transmission_parameters(args)
    events = Events(args.events)
    server = ManagementServer(args, events)
    host, port = parse_listen(args.listen)
    server.context, bound = await server_context(RdResource(server), host, port)
    intercept_incoming(server.context, server.reset_notifications)
    ready = {"event": "ready", "listen": f"{host}:{bound}", "uri": f"coap://{host}:{bound}"}
    print(json.dumps(ready), flush=True)
    if args.events:
        events.emit("ready", **{k: v for k, v in ready.items() if k != "event"})
    log(f"management-server: listening on coap://{host}:{bound}")
    reader = asyncio.create_task(read_commands(server))
    await run_until_signalled()
    reader.cancel()
    for obs in server.observations.values():
        obs["task"].cancel()
    await server.context.shutdown()
    events.emit("stopped", registrations=len(server.by_ep))
    return 0


def main(argv=None) -> int:
    return asyncio.run(serve(parse_args(sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    sys.exit(main())
