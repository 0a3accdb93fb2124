import AgentCommon

/// `lwm2m-agentd --help` and the lwm2m-agentd(8) manual page: one text for both.
public enum DaemonHelp {
    public static let help = CommandHelp(
        name: "lwm2m-agentd",
        summary: "the LwM2M 1.1 device-management agent daemon",
        synopsis: ["lwm2m-agentd --config FILE [--log-level LEVEL]", "lwm2m-agentd --version", "lwm2m-agentd --help"],
        description: [
            "lwm2m-agentd runs the LwM2M client as the configuration file says: bootstrap, registration with "
                + "the LwM2M servers, device management (device, connectivity, firmware update, sensor and GPIO objects). "
                + "It opens no listening network socket; it answers lwm2m-agent status over an owner-only UNIX control "
                + "socket (control-socket in agent.conf, default <state-dir>/control). One daemon runs per state directory.",
            "SIGTERM and SIGINT de-register and stop the daemon. SIGHUP reloads the configuration file (factory "
                + "accounts, log level). SIGUSR1 is a factory reset (lwm2m-agent factory-reset): the daemon de-registers, "
                + "drops the bootstrapped configuration and starts over with the factory accounts.",
            "Under systemd (Type=notify) it reports READY=1 once its event loop runs, STATUS= lines with the "
                + "bootstrap and registration state, WATCHDOG=1 from the event loop at half of WatchdogSec= (a hung loop "
                + "is restarted), RELOADING=1 and STOPPING=1, as datagrams to $NOTIFY_SOCKET; without it (SysV, BusyBox) "
                + "nothing changes.",
            "Logs go to standard error with journald priority prefixes (<3> to <7>); they never contain secret bytes. "
                + "The demo CoAP server is a separate program, lwm2m-demo.",
        ],
        options: [
            .init("--config FILE", "run the LwM2M client as FILE says (format: docs/configuration.md)"),
            .init("--log-level LEVEL", "error, warning, notice, info (default: the configuration's, else info) or debug"),
            .init("--version", "print the version and exit"),
            .init("--help, -h", "print this help and exit"),
        ],
        exitStatus: [
            .init("0", "stopped on SIGTERM or SIGINT"),
            .init("1", "failed: the configuration, the state directory, the credential store, or a Reboot the "
                    + "server asked for that could not be done (the service manager restarts the daemon)"),
            .init("2", "usage error"),
        ])

    /// The lwm2m-agentd(8) manual page.
    public static let manPage = ManPage(help, section: 8, extraSections: [
        .init("Files", [
            "/etc/lwm2m-agent/agent.conf: the configuration (docs/configuration.md).",
            "/var/lib/lwm2m-agent: the state directory (saved configuration, PID file, control socket, firmware images).",
            "/usr/share/lwm2m-agent/boards: board definitions (docs/boards.md).",
        ]),
        .init("See also", ["lwm2m-agent(1)"]),
    ])
}
