import AgentCommon

/// The help of `lwm2m-agent board show|list` (docs/boards.md).
extension BoardCommand {
    static let options: [CommandHelp.Item] = [
        .init("--config FILE", "read board and board-dir from this agent.conf (and its state directory and serial file)"),
        .init("--board NAME|PATH", "show: this board instead of the configured or detected one"),
        .init("--board-dir DIR", "the board definitions (default /usr/share/lwm2m-agent/boards)"),
        .init("--root DIR", "read /proc and /sys under DIR (a copy of another machine's files)"),
    ]

    static let exitStatus: [CommandHelp.Item] = [
        .init("0", "shown"),
        .init("1", "a board file is refused (the message names its file and line) or the configuration cannot be read"),
        .init("2", "usage error"),
    ]

    static let help = CommandHelp(
        name: "lwm2m-agent board",
        summary: "the board the agent runs with, and the installed boards",
        synopsis: ["lwm2m-agent board show|list [options]"],
        description: ["--config reads board and board-dir from agent.conf; --board and --board-dir override them."],
        options: options,
        exitStatus: exitStatus,
        subcommands: [
            CommandHelp(
                name: "lwm2m-agent board show",
                summary: "the board the agent would run with here, why, and the values it would report",
                synopsis: ["lwm2m-agent board show [--config FILE] [--board NAME|PATH] [--board-dir DIR] [--root DIR]"],
                options: options, exitStatus: exitStatus),
            CommandHelp(
                name: "lwm2m-agent board list",
                summary: "the installed boards; * marks those matching this machine",
                synopsis: ["lwm2m-agent board list [--config FILE] [--board-dir DIR] [--root DIR]"],
                options: options.filter { !$0.term.hasPrefix("--board ") }, exitStatus: exitStatus),
        ])
}
