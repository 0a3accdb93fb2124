import AgentCommon

/// The help of `lwm2m-agent status` (docs/operations.md).
extension StatusCommand {
    static let help = CommandHelp(
        name: "lwm2m-agent status",
        summary: "ask the running lwm2m-agentd where it stands",
        synopsis: ["lwm2m-agent status [--config FILE] [--json] [--timeout SECONDS]"],
        description: [
            "Asks the running daemon over its control socket: the accounts (bootstrap, registration, failures "
                + "and retries, fallback), the credential store, the board, observations, firmware (state, result, "
                + "download progress). Never secrets.",
        ],
        options: [
            .init("--config FILE", "the daemon's configuration file, to find its control socket "
                    + "(default /etc/lwm2m-agent/agent.conf)"),
            .init("--json", "one JSON object on standard output"),
            .init("--timeout SECONDS", "how long to wait for the answer (default 5)"),
        ],
        exitStatus: [
            .init("0", "the daemon answered"),
            .init("1", "no answer (permission, time-out, control socket off)"),
            .init("2", "usage error"),
            .init("3", "no daemon running"),
        ])
}
