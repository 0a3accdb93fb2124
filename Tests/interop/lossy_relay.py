#!/usr/bin/env python3
"""A lossy UDP relay, run as its own process by the interop tests.

    lossy_relay.py --listen HOST:PORT --target HOST:PORT [--drop P] [--seed N] [--trace]

Datagrams arriving on the listen socket from a client are forwarded to the target through an
upstream socket dedicated to that client (so the target sees one distinct peer per client, and
its answers can be routed back); answers from the target go back to that client from the listen
socket. Each datagram, in each direction, is dropped with probability P. The two directions use
two RNGs seeded from N, so a given seed yields the same drop pattern for the same sequence of
datagrams in each direction.

Port 0 in --listen binds a free port. Once bound the relay prints one line on standard output:
``listening HOST PORT``. SIGTERM/SIGINT stop it; on exit it prints the counts on standard error as
one line ``RELAY-STATS {json}``. With --trace, every datagram is also logged on standard error as
``TRACE {json}`` (direction, client port, dropped flag, hex bytes).
"""

from __future__ import annotations

import argparse
import json
import random
import selectors
import signal
import socket
import sys
import time


def parse_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", required=True, help="HOST:PORT to listen on (port 0: any free port)")
    parser.add_argument("--target", required=True, help="HOST:PORT to forward to")
    parser.add_argument("--drop", type=float, default=0.0, help="drop probability per datagram and direction")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--trace", action="store_true", help="log every datagram on standard error")
    args = parser.parse_args()

    listen_host, listen_port = parse_address(args.listen)
    target = parse_address(args.target)
    family = socket.AF_INET6 if ":" in listen_host else socket.AF_INET
    target_family = socket.AF_INET6 if ":" in target[0] else socket.AF_INET

    rng = {"up": random.Random(args.seed * 2 + 1), "down": random.Random(args.seed * 2 + 2)}
    stats = {
        "up": {"received": 0, "forwarded": 0, "dropped": 0},
        "down": {"received": 0, "forwarded": 0, "dropped": 0},
        "clients": 0,
        "drop_probability": args.drop,
        "seed": args.seed,
    }

    listener = socket.socket(family, socket.SOCK_DGRAM)
    listener.bind((listen_host, listen_port))
    listener.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, None)
    upstream_for: dict[tuple, socket.socket] = {}

    stopping = False

    def stop(_signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    bound = listener.getsockname()
    print(f"listening {bound[0]} {bound[1]}", flush=True)
    start = time.monotonic()

    def relay(direction: str, data: bytes, client: tuple, send) -> None:
        counts = stats[direction]
        counts["received"] += 1
        dropped = rng[direction].random() < args.drop
        if dropped:
            counts["dropped"] += 1
        else:
            try:
                send(data)
                counts["forwarded"] += 1
            except OSError as error:  # e.g. ICMP unreachable reported on a later send
                counts.setdefault("errors", 0)
                counts["errors"] += 1
                print(f"relay: send {direction} failed: {error}", file=sys.stderr, flush=True)
        if args.trace:
            record = {"t": round(time.monotonic() - start, 4), "dir": direction, "client": client[1],
                      "dropped": dropped, "hex": data.hex()}
            print("TRACE " + json.dumps(record), file=sys.stderr, flush=True)

    while not stopping:
        for key, _ in selector.select(timeout=0.1):
            sock, client = key.fileobj, key.data
            while True:
                try:
                    data, source = sock.recvfrom(65536)
                except (BlockingIOError, InterruptedError):
                    break
                except ConnectionRefusedError:
                    continue  # an ICMP error from an earlier send: nothing to read
                if sock is listener:
                    upstream = upstream_for.get(source)
                    if upstream is None:
                        upstream = socket.socket(target_family, socket.SOCK_DGRAM)
                        upstream.bind(("::1" if target_family == socket.AF_INET6 else "127.0.0.1", 0))
                        upstream.connect(target)
                        upstream.setblocking(False)
                        selector.register(upstream, selectors.EVENT_READ, source)
                        upstream_for[source] = upstream
                        stats["clients"] += 1
                    relay("up", data, source, upstream.send)
                else:
                    relay("down", data, client, lambda d, c=client: listener.sendto(d, c))

    total = stats["up"]["received"] + stats["down"]["received"]
    dropped = stats["up"]["dropped"] + stats["down"]["dropped"]
    stats["total_received"] = total
    stats["total_dropped"] = dropped
    stats["drop_ratio"] = dropped / total if total else 0.0
    print("RELAY-STATS " + json.dumps(stats), file=sys.stderr, flush=True)
    for upstream in upstream_for.values():
        upstream.close()
    listener.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
