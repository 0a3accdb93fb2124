"""Agent configuration files (docs/configuration.md) for the interop tests."""

from __future__ import annotations

from pathlib import Path

ACK_TIMEOUT = 0.1  # MAX_TRANSMIT_WAIT = 4.65 s: failure paths stay quick


def write_config(path: Path, *, bootstrap: str | None = None, servers: dict[int, dict] | None = None,
                 **agent) -> Path:
    """An agent configuration file (docs/configuration.md) in ``path``."""
    settings = {"endpoint-name": "gw-e2e-1", "state-dir": str(path / "state"), "log-level": "debug",
                "credential-store": "development", "ack-timeout": ACK_TIMEOUT, "bootstrap-retry-initial": 1,
                "bootstrap-retry-maximum": 4}
    settings.update({key.replace("_", "-"): value for key, value in agent.items()})
    lines = ["[agent]"] + [f"{key} = {str(value).lower() if isinstance(value, bool) else value}"
                           for key, value in settings.items()]
    if bootstrap:
        lines += ["", "[bootstrap]", f"uri = {bootstrap}"]
    for ssid, server in (servers or {}).items():
        lines += ["", f"[server {ssid}]"] + [f"{key.replace('_', '-')} = {value}" for key, value in server.items()]
    config = path / "agent.conf"
    config.write_text("\n".join(lines) + "\n")
    return config
