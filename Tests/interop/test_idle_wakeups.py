"""The registered daemon sleeps until its next timer (issue 17: one wake-up per timer).

The objects whose values change on their own (Device, Connectivity Monitoring, Temperature,
Light Control's On Time) are sampled only while a server observes them. A registered daemon
with nothing observed and no Update due (lifetime 86,400 s) has no timer in the next seconds,
so none of its threads wakes: the sum of ``voluntary_ctxt_switches`` over
``/proc/PID/task/*/status`` (each is a sleep that ended) does not move. An observation of
``/3/0/13`` (Current Time: a change every second) starts the sampling, and the daemon wakes;
cancelling it stops the sampling again. Only counts are asserted, never speed.

The Temperature object (a fixture thermal zone): an Observe after the zone changed while
nothing sampled it carries the current value, and that value is not notified a second time.
"""

from __future__ import annotations

import time
from pathlib import Path


from agentconfig import write_config
from test_sensor_objects import fixture_root, set_temp  # noqa: F401 (a fixture: the sensors' fixture tree as the system root)

EP = "gw-e2e-1"
WINDOW = 3.0  # seconds watched; no timer of the daemon falls into it unless something is observed


def voluntary_switches(pid: int) -> int:
    """Sleeps that ended, summed over every thread of ``pid``."""
    total = 0
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        try:
            text = status.read_text()
        except FileNotFoundError:  # a thread that just ended
            continue
        for line in text.splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                total += int(line.split()[1])
    return total


def wakeups_over(pid: int, seconds: float) -> int:
    before = voluntary_switches(pid)
    time.sleep(seconds)
    return voluntary_switches(pid) - before


def register(start_peer, start_agent, tmp_path):
    ms = start_peer("management_server")
    config = write_config(tmp_path, servers={101: {"uri": f"coap://127.0.0.1:{ms.port}", "lifetime": 86400}})
    agent = start_agent(config)
    ms.wait_event("register", ep=EP)
    return ms, agent


def test_registered_idle_daemon_does_not_wake_and_an_observation_wakes_it(start_peer, start_agent, tmp_path):
    ms, agent = register(start_peer, start_agent, tmp_path)
    time.sleep(0.5)  # the state written, the registration's timers armed
    idle = wakeups_over(agent.pid, WINDOW)
    print(f"registered, nothing observed: {idle} wake-ups in {WINDOW} s")
    assert idle == 0, f"the idle daemon woke {idle} times in {WINDOW} s with no timer due"

    reply = ms.command("observe", ep=EP, path="/3/0/13", accept="text")
    assert reply["ok"] and reply["code"] == "2.05" and reply["observing"], reply
    ms.wait_event("notify", ep=EP, timeout=5)  # Current Time moved: the sampling runs
    observed = wakeups_over(agent.pid, WINDOW)
    notifications = len(ms.events("notify"))
    print(f"/3/0/13 observed: {observed} wake-ups in {WINDOW} s, {notifications} notifications so far")
    assert observed > 0
    assert notifications >= 2, ms.events("notify")

    cancel = ms.command("cancel-observe", observation=reply["observation"])
    assert cancel["ok"] and cancel["code"] == "2.05", cancel
    time.sleep(1.5)  # a round already due may still run once
    after = wakeups_over(agent.pid, WINDOW)
    print(f"observation cancelled: {after} wake-ups in {WINDOW} s")
    assert after == 0, f"the daemon kept waking ({after} in {WINDOW} s) after the last observation ended"
    assert agent.stop() == 0


def test_an_observe_after_an_unsampled_change_notifies_only_later_changes(fixture_root, start_peer, start_agent,
                                                                          tmp_path):
    ms, _ = register(start_peer, start_agent, tmp_path)
    reply = ms.command("read", ep=EP, path="/3303/0/5700", accept="text")
    assert reply["code"] == "2.05" and reply["value"] == {"/3303/0/5700": 27.8}, reply
    set_temp(fixture_root, 29100)  # changes while nothing observes, so nothing samples, the zone
    reply = ms.command("observe", ep=EP, path="/3303/0/5700", accept="text")
    assert reply["code"] == "2.05" and reply["observing"] and reply["value"] == {"/3303/0/5700": 29.1}, reply
    time.sleep(2.5)  # two sampling rounds: nothing new
    assert ms.events("notify") == [], ms.events("notify")
    set_temp(fixture_root, 30400)
    notify = ms.wait_event("notify", ep=EP, timeout=5)
    assert notify["value"] == {"/3303/0/5700": 30.4}, notify
    time.sleep(1.5)
    assert [n["value"] for n in ms.events("notify")] == [{"/3303/0/5700": 30.4}]
