import AgentCommon

/// The help of the hidden `lwm2m-agent gpio` (bring-up and the VM tests; not in the manual page).
extension GPIOCommand {
    static let help = CommandHelp(
        name: "lwm2m-agent gpio",
        summary: "drive the agent's GPIO layer by hand (bring-up, tests)",
        synopsis: [
            "lwm2m-agent gpio find LINE [--chip C]",
            "lwm2m-agent gpio get LINE [--chip C] [--active-low] [--bias B]",
            "lwm2m-agent gpio set LINE 0|1 [--chip C] [--active-low] [--hold MS]",
            "lwm2m-agent gpio watch LINE [--chip C] [--active-low] [--bias B] [--seconds S] [--delay MS]",
        ],
        description: [
            "find: where the line is and who holds it. get: request it as an input and print the level. set: "
                + "request it as an output, hold it, release it. watch: request it with edge events and print each "
                + "event.",
        ],
        options: [
            .init("--chip C", "the GPIO chip (default: the line is looked up by name on every chip)"),
            .init("--active-low", "the line is active-low"),
            .init("--bias B", "pull-up, pull-down or disable"),
            .init("--hold MS", "set: keep the level this long before releasing the line"),
            .init("--seconds S", "watch: how long (default 5)"),
            .init("--delay MS", "watch: let edges queue up before the first read"),
        ],
        exitStatus: [.init("0", "done"), .init("1", "a GPIO error"), .init("2", "usage error")],
        hidden: true)
}
