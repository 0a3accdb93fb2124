#!/usr/bin/env python3
"""An LwM2M 1.1 Bootstrap-Server for the interop tests and the demo (plain CoAP over UDP).

    bootstrap_server.py --listen 127.0.0.1:PORT [--plan PLAN.json | --style plain|wakaama|1nce]
                        [--events EVENTS.jsonl] [options]

On every Bootstrap-Request (client POST /bs?ep=NAME[&pct=FORMAT], answered 2.04) it runs the plan
for that endpoint against the request's source address, from its own socket: Bootstrap-Delete,
-Write, -Discover, -Read, then Bootstrap-Finish. Each request runs the plan again. See README.md
for the plan format and the events. Standard output gets {"event": "ready", "listen": ...} once
bound (port 0 picks a free port); events go to --events or standard output. SIGTERM stops it;
with --finish-expect the exit status is 3 if any Bootstrap-Finish got another code.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

import aiocoap
import aiocoap.resource as resource

import codec
import linkformat
from peerlib import (Events, code_str, intercept_incoming, log, parse_listen, payload_text, query_params,
                     remote_str, run_until_signalled, server_context)

OPS = ("delete", "write", "discover", "read", "finish", "wait")


# MARK: - Plans


def security_account(uri: str, bootstrap: bool, ssid: int | None, identity: str | None,
                     key_hex: str | None, empty_credentials: bool) -> dict:
    """Resources of a Security (/0) instance: PSK when an identity and key are given, else NoSec."""
    value: dict = {"0": uri, "1": bootstrap, "2": 0 if identity is not None else 3}
    if identity is not None:
        value["3"] = identity
        value["5"] = {"hex": key_hex or ""}
    elif empty_credentials:
        value.update({"3": {"hex": ""}, "4": {"hex": ""}, "5": {"hex": ""}})
    if ssid is not None:
        value["10"] = ssid
    return value


def style_steps(args, own_uri: str) -> list[dict]:
    fmt, wrap = args.format, args.wrap
    one_nce = args.style == "1nce"
    # help.1nce.com "Bootstrapping" table: /0/0 is the LwM2M Server account, /0/1 the
    # Bootstrap-Server account, /1/0 the Server object; no Delete; NoSec accounts carry no 3/4/5.
    sec = args.security_instance if args.security_instance is not None else (0 if one_nce else 1)
    srv = args.server_instance if args.server_instance is not None else (0 if one_nce else 1)
    bsi = args.bootstrap_instance if args.bootstrap_instance is not None else (1 if one_nce else 0)
    ssid = args.ssid if args.ssid is not None else (1111 if one_nce else 101)
    bs_uri = args.bootstrap_uri or (own_uri if one_nce else None)

    def write(path: str, value: dict) -> dict:
        return {"op": "write", "path": path, "format": fmt, "wrap": wrap, "value": value}

    if one_nce:
        steps = [write(f"/0/{sec}", security_account(args.server_uri, False, ssid, args.psk_identity,
                                                       args.psk_key, False))]
    else:
        steps = [{"op": "delete", "path": "/0"}, {"op": "delete", "path": "/1"}] if args.style == "wakaama" \
            else [{"op": "delete", "path": "/"}]
        steps.append(write(f"/0/{sec}", security_account(args.server_uri, False, ssid, args.psk_identity,
                                                          args.psk_key, True)))
    if bs_uri:
        steps.append(write(f"/0/{bsi}", security_account(bs_uri, True, 2222 if one_nce else None,
                                                         args.bs_psk_identity, args.bs_psk_key, not one_nce)))
    server = {"0": ssid, "1": args.lifetime, "2": 1} if one_nce else \
        {"0": ssid, "1": args.lifetime, "6": True, "7": args.binding}
    steps.append(write(f"/1/{srv}", server))
    return steps + [{"op": "finish"}]


def validate_steps(steps) -> list[dict]:
    if not isinstance(steps, list):
        raise ValueError("a plan is a list of steps")
    for step in steps:
        if not isinstance(step, dict) or step.get("op") not in OPS:
            raise ValueError(f"bad step {step!r}: op must be one of {OPS}")
        if step["op"] in ("delete", "write", "discover", "read"):
            codec.parse_path(step.get("path", "/"))
        if step["op"] == "write":
            codec.encode(step["path"], step["value"], codec.TLV if step.get("format", "auto") == "auto"
                         else step["format"], bool(step.get("wrap")))  # fails early on bad values
    return steps


def load_plan(path: str) -> dict[str, list[dict]]:
    """endpoint name ("*" = any) -> steps, from a list of steps or {"endpoints": {...}}."""
    with open(path) as file:
        plan = json.load(file)
    endpoints = {"*": plan} if isinstance(plan, list) else plan.get("endpoints")
    if not isinstance(endpoints, dict):
        raise ValueError("a plan file is a list of steps or {\"endpoints\": {name: steps}}")
    return {name: validate_steps(steps) for name, steps in endpoints.items()}


# MARK: - Server


class BootstrapServer:
    def __init__(self, args, events: Events):
        self.args = args
        self.events = events
        self.plan: dict[str, list[dict]] = {}
        self.context: aiocoap.Context | None = None
        self.ignore_left = args.ignore_requests
        self.ignored: set[tuple[str, int]] = set()
        self.sessions: dict[str, asyncio.Task] = {}
        self.session_count = 0
        self.finishes: list[str] = []

    # Bootstrap-Requests to ignore are dropped before aiocoap sees them (no ACK, no response).
    def should_drop(self, message, _manager=None) -> bool:
        if not (message.code == aiocoap.POST and tuple(message.opt.uri_path) == ("bs",)):
            return False
        key = (remote_str(message.remote), message.mid)
        if key in self.ignored:
            self.events.emit("bootstrap-request-ignored", remote=key[0], mid=key[1], retransmission=True)
            return True
        if self.ignore_left > 0:
            self.ignore_left -= 1
            self.ignored.add(key)
            params = dict(q.partition("=")[::2] for q in message.opt.uri_query)
            self.events.emit("bootstrap-request-ignored", ep=params.get("ep"), remote=key[0], mid=key[1],
                             retransmission=False, left=self.ignore_left)
            return True
        return False

    def steps_for(self, ep: str) -> list[dict] | None:
        return self.plan.get(ep, self.plan.get("*"))

    async def bootstrap_request(self, request) -> aiocoap.Message:
        params = query_params(request)
        ep, pct = params.get("ep"), params.get("pct")
        remote = remote_str(request.remote)
        if not isinstance(ep, str) or not ep:
            self.events.emit("bootstrap-request", ep=None, pct=pct, remote=remote, code="4.00")
            return aiocoap.Message(code=aiocoap.BAD_REQUEST, payload=b"missing ep")
        steps = self.steps_for(ep)
        if steps is None:
            self.events.emit("bootstrap-request", ep=ep, pct=pct, remote=remote, code="4.00")
            return aiocoap.Message(code=aiocoap.BAD_REQUEST, payload=b"unknown endpoint")
        if pct is not None and (not str(pct).isdigit() or int(pct) not in codec.FORMAT_NAMES):
            self.events.emit("bootstrap-request", ep=ep, pct=pct, remote=remote, code="4.15")
            return aiocoap.Message(code=aiocoap.UNSUPPORTED_CONTENT_FORMAT)
        self.session_count += 1
        self.events.emit("bootstrap-request", ep=ep, pct=int(pct) if pct else None, remote=remote,
                         code="2.04", session=self.session_count, params=params)
        previous = self.sessions.get(ep)
        if previous and not previous.done():
            previous.cancel()
        self.sessions[ep] = asyncio.create_task(
            self.run_session(ep, request.remote, int(pct) if pct else None, steps, self.session_count))
        return aiocoap.Message(code=aiocoap.CHANGED)

    async def run_session(self, ep: str, remote, pct: int | None, steps: list[dict], session: int) -> None:
        await asyncio.sleep(self.args.start_delay)  # the 2.04 to the Bootstrap-Request goes first
        try:
            for index, step in enumerate(steps):
                if not await self.run_step(ep, remote, pct, step, session, index):
                    self.events.emit("session-aborted", ep=ep, session=session, step=index)
                    return
            self.events.emit("session-done", ep=ep, session=session)
        except asyncio.CancelledError:
            self.events.emit("session-cancelled", ep=ep, session=session)
            raise
        except Exception as error:  # a bug or a bad plan value: report it, keep serving
            self.events.emit("session-aborted", ep=ep, session=session, error=repr(error))

    def content_format(self, step: dict, pct: int | None) -> int:
        fmt = step.get("format", "auto")
        if fmt == "auto":
            return pct if pct in (codec.TLV, codec.SENML_JSON, codec.SENML_CBOR) else codec.TLV
        return codec.format_number(fmt)

    async def run_step(self, ep, remote, pct, step, session, index) -> bool:
        op = step["op"]
        if op == "wait":
            await asyncio.sleep(float(step.get("seconds", 1)))
            return True
        path = step.get("path", "/bs" if op == "finish" else "/")
        message = aiocoap.Message(uri_path=tuple(part for part in path.split("/") if part))
        fmt = None
        if op == "delete":
            message.code = aiocoap.DELETE
        elif op == "write":
            fmt = self.content_format(step, pct)
            message.code = aiocoap.PUT
            message.payload = codec.encode(path, step["value"], fmt, bool(step.get("wrap")))
            message.opt.content_format = fmt
        elif op == "discover":
            message.code = aiocoap.GET
            message.opt.accept = codec.LINK_FORMAT
        elif op == "read":
            fmt = self.content_format(step, pct)
            message.code = aiocoap.GET
            message.opt.accept = fmt
        elif op == "finish":
            message.code = aiocoap.POST
            message.opt.uri_path = ("bs",)
        message.remote = remote
        fields = {"ep": ep, "session": session, "step": index, "op": op, "path": path}
        if fmt is not None:
            fields["format"] = fmt
        try:
            response = await asyncio.wait_for(self.context.request(message).response,
                                              float(step.get("timeout", self.args.step_timeout)))
        except asyncio.TimeoutError:
            self.events.emit("response", **fields, code=None, error="timeout")
            if op == "finish":
                self.record_finish(ep, session, None, "", error="timeout")
            return False
        except aiocoap.error.Error as error:
            self.events.emit("response", **fields, code=None, error=repr(error))
            return False
        code = code_str(response.code)
        fields["code"] = code
        if op == "discover" and response.code.is_successful():
            text = response.payload.decode(errors="replace")
            fields.update(payload=text, links=linkformat.parse(text))
        elif op == "read" and response.code.is_successful():
            got = response.opt.content_format
            fields["format"] = got
            try:
                fields["value"] = codec.decode(path, response.payload, got)
            except Exception as error:
                fields.update(decode_error=repr(error), payload={"hex": response.payload.hex()})
        elif response.payload:
            fields["payload"] = payload_text(response.payload)
        self.events.emit("response", **fields)
        if op == "finish":
            self.record_finish(ep, session, code, payload_text(response.payload) if response.payload else "")
        return True

    def record_finish(self, ep, session, code, diagnostic, error=None) -> None:
        self.finishes.append(code)
        fields = {"ep": ep, "session": session, "code": code, "diagnostic": diagnostic}
        if error:
            fields["error"] = error
        if self.args.finish_expect:
            fields["expected"] = self.args.finish_expect
            fields["as_expected"] = code == self.args.finish_expect
        self.events.emit("finish", **fields)


class BsResource(resource.Resource):
    def __init__(self, server: BootstrapServer):
        super().__init__()
        self.server = server

    async def render_post(self, request):
        return await self.server.bootstrap_request(request)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", default="127.0.0.1:5783", help="HOST:PORT to bind (port 0: any free port)")
    parser.add_argument("--plan", help="plan JSON file (overrides --style)")
    parser.add_argument("--style", choices=("plain", "wakaama", "1nce"), default="plain")
    parser.add_argument("--endpoint", help="serve the --style plan to this endpoint only (others get 4.00)")
    parser.add_argument("--events", help="append events to this file instead of standard output")
    parser.add_argument("--server-uri", default="coap://127.0.0.1:5683", help="LwM2M Server URI to provision")
    parser.add_argument("--bootstrap-uri", help="also provision a Bootstrap-Server account with this URI "
                        "(1nce style: defaults to this server's own URI)")
    parser.add_argument("--ssid", type=int, help="Short Server ID (default 101; 1nce style 1111)")
    parser.add_argument("--lifetime", type=int, default=86400)
    parser.add_argument("--binding", default="U")
    parser.add_argument("--security-instance", type=int, help="/0 instance of the server account "
                        "(default 1; 1nce style 0)")
    parser.add_argument("--server-instance", type=int, help="/1 instance of the server account (default 1; "
                        "1nce style 0)")
    parser.add_argument("--bootstrap-instance", type=int, help="/0 instance of the BS account (default 0; "
                        "1nce style 1)")
    parser.add_argument("--psk-identity", help="PSK identity (UTF-8) for the server account: Security Mode 0")
    parser.add_argument("--psk-key", help="PSK secret key (hex) for the server account")
    parser.add_argument("--bs-psk-identity", help="PSK identity for the provisioned BS account")
    parser.add_argument("--bs-psk-key", help="PSK key (hex) for the provisioned BS account")
    parser.add_argument("--format", default="auto", help="style writes: auto (the request's pct, else "
                        "TLV), tlv, senml-json, senml-cbor")
    parser.add_argument("--wrap", action="store_true", help="TLV writes of an instance path wrap the "
                        "resources in an object-instance TLV")
    parser.add_argument("--ignore-requests", type=int, default=0, metavar="N",
                        help="drop the first N Bootstrap-Requests (and their retransmissions) unanswered")
    parser.add_argument("--finish-expect", metavar="CODE", help="expected Bootstrap-Finish code, e.g. 2.04")
    parser.add_argument("--step-timeout", type=float, default=10.0, help="seconds to wait for each answer")
    parser.add_argument("--start-delay", type=float, default=0.05,
                        help="seconds between answering a Bootstrap-Request and the first command")
    args = parser.parse_args(argv)
    if (args.psk_identity is None) != (args.psk_key is None):
        parser.error("--psk-identity and --psk-key go together")
    return args


async def serve(args) -> int:
    events = Events(args.events)
    server = BootstrapServer(args, events)
    root = resource.Site()
    root.add_resource(["bs"], BsResource(server))
    host, port = parse_listen(args.listen)
    server.context, bound = await server_context(root, host, port)
    intercept_incoming(server.context, server.should_drop)
    own_uri = f"coap://{host}:{bound}"
    if args.plan:
        server.plan = load_plan(args.plan)
    else:
        server.plan = {args.endpoint or "*": validate_steps(style_steps(args, own_uri))}
    ready = {"event": "ready", "listen": f"{host}:{bound}", "uri": own_uri,
             "plan": "file" if args.plan else args.style}
    print(json.dumps(ready), flush=True)
    if args.events:
        events.emit("ready", **{k: v for k, v in ready.items() if k != "event"})
    log(f"bootstrap-server: listening on {own_uri}, plan for {sorted(server.plan)}")
    await run_until_signalled()
    for task in server.sessions.values():
        task.cancel()
    await server.context.shutdown()
    mismatched = [code for code in server.finishes if args.finish_expect and code != args.finish_expect]
    events.emit("stopped", sessions=server.session_count, finishes=server.finishes)
    return 3 if mismatched else 0


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return asyncio.run(serve(args))


if __name__ == "__main__":
    sys.exit(main())
