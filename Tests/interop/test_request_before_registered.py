"""A server's request that arrives before the answer to the agent's Register (that answer lost
on the way, or merely slower than the server).

Found with Leshan under 30 % loss (test_firmware_leshan.py::test_push_from_leshan_under_30_percent_loss,
seeds 1 and 3): Leshan registered the agent, its 2.01 was dropped, and its Write of /5/0/0 sent at
once got 4.01 "no session with this server" from the agent, which was still waiting for the 2.01
and retransmitting its Register. Servers commonly send requests the moment a client registers
(Leshan's own demo observes on registration), so on a lossy link the first operation failed.

Here a hand-made server on a raw socket (coapwire) plays it deterministically: it takes the
Register without answering, reads /5/0/3 and /3/0/17 from the agent, then answers the Register's
retransmission with 2.01. Each read must be served (2.05), and the registration completes.
"""

from __future__ import annotations

import socket
import time

import coapwire as cw
from agentconfig import write_config

TEXT_PLAIN = 0
POST = cw.code(0, 2)
GET = cw.code(0, 1)
LOCATION_PATH = 8


def receive(sock: socket.socket, timeout: float) -> tuple[cw.Message, tuple]:
    sock.settimeout(timeout)
    data, peer = sock.recvfrom(65536)
    return cw.decode(data), peer


def test_requests_before_the_register_answer_are_served(start_agent, tmp_path):
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    try:
        port = server.getsockname()[1]
        config = write_config(tmp_path, servers={1: {"uri": f"coap://127.0.0.1:{port}", "lifetime": 300}},
                              ack_timeout=1)  # ~1-1.5 s before the Register's first retransmission
        agent = start_agent(config)
        register, peer = receive(server, 10)
        assert register.code == POST and register.path == "/rd", register

        # The server has registered the agent and sends requests before its 2.01 arrives.
        for mid, (path, expected) in enumerate((("/5/0/3", b"0"), ("/3/0/17", b"Gateway")), start=0x4C00):
            server.sendto(cw.encode(cw.CON, GET, mid, token=bytes([mid & 0xFF]),
                                    options=cw.uri_path_options(path) + [(cw.ACCEPT, cw.uint_bytes(TEXT_PLAIN))]),
                          peer)
            deadline = time.monotonic() + 5
            while True:
                answer, _ = receive(server, max(0.1, deadline - time.monotonic()))
                if answer.mtype == cw.ACK and answer.mid == mid:
                    break
                assert answer.mid == register.mid, answer  # only the Register's retransmissions meanwhile
            assert answer.code_str == "2.05", (path, str(answer), answer.payload)
            assert answer.payload == expected, (path, answer.payload)

        # Now the Register's answer gets through (to a retransmission, or late to the first).
        server.sendto(cw.encode(cw.ACK, cw.code(2, 1), register.mid, token=register.token,
                                options=[(LOCATION_PATH, b"rd"), (LOCATION_PATH, b"r1")]), peer)
        agent.wait_for(r"server 1: registered at /rd/r1", timeout=10)
    finally:
        server.close()
