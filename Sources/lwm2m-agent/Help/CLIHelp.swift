import AgentCommon
import AgentDaemon
import Files

/// All of `lwm2m-agent`'s help: the overview, each command's (`COMMAND [SUBCOMMAND] --help`,
/// `help COMMAND`), and the manual pages made from them (`help --man DIR`, hidden).
enum CLIHelp {
    static let commands: [CommandHelp] = [
        CoreHelp.coap, StatusCommand.help, CoreHelp.state, CoreHelp.factoryReset, FactoryCommand.help,
        BoardCommand.help, FirmwareCommand.help, CoreHelp.version, CoreHelp.help, GPIOCommand.help,
    ]

    static let overview = CommandHelp(
        name: "lwm2m-agent",
        summary: "operate and provision the lwm2m-agentd LwM2M device-management agent",
        synopsis: ["lwm2m-agent COMMAND [SUBCOMMAND] [OPERANDS] [options]", "lwm2m-agent COMMAND [SUBCOMMAND] --help"],
        description: [
            "lwm2m-agent is the operator's and the factory's tool for lwm2m-agentd(8): it asks the running "
                + "daemon where it stands, shows and resets its accounts, provisions the factory accounts and "
                + "TPM credentials, shows the board, makes and checks signed firmware packages, and sends CoAP "
                + "requests by hand. Every command and subcommand answers --help (or -h) with its usage, "
                + "options and exit status.",
        ],
        exitStatus: [
            .init("0", "done"),
            .init("1", "the operation failed (see each command)"),
            .init("2", "usage error"),
            .init("3", "no answer: no CoAP response, no daemon running, a lost download (see each command)"),
        ],
        subcommands: commands)

    /// The lwm2m-agent(1) manual page.
    static let manPage = ManPage(overview, section: 1, extraSections: [
        .init("Files", [
            "/etc/lwm2m-agent/agent.conf: the daemon's configuration, the default of status --config.",
            "/usr/share/lwm2m-agent/boards: board definitions.",
        ]),
        .init("See also", ["lwm2m-agentd(8). The project's docs: configuration.md, factory-provisioning.md, "
                            + "boards.md, firmware-update.md, operations.md."]),
    ])

    /// The help `arguments` (after the command word) ask for: a group's subcommand when the
    /// first operand names one, else the command's.
    static func resolve(_ command: CommandHelp, _ arguments: [String]) -> CommandHelp {
        if let first = arguments.first, let subcommand = command.subcommand(first) {
            return resolve(subcommand, Array(arguments.dropFirst()))
        }
        return command
    }

    /// The help of the command typed as `word` (hidden ones included).
    static func command(_ word: String) -> CommandHelp? {
        if word == "--version" { return CoreHelp.version }
        return overview.subcommand(word)
    }

    /// `lwm2m-agent help [COMMAND [SUBCOMMAND]]`, and the hidden `help --man DIR`.
    static func run(_ arguments: [String]) -> Int32 {
        if arguments.first == "--man" {
            guard arguments.count == 2 else { CLI.usageError("help --man DIR") }
            return writeManPages(into: arguments[1])
        }
        let words = arguments.filter { $0 != "--help" && $0 != "-h" }
        guard let word = words.first else {
            // `help --help`: this command's own help; a bare `help`: the overview.
            print((arguments.isEmpty ? overview : CoreHelp.help).text, terminator: "")
            return 0
        }
        guard let help = command(word) else { CLI.usageError("no command \"\(word)\"") }
        print(resolve(help, Array(words.dropFirst())).text, terminator: "")
        return 0
    }

    /// Writes lwm2m-agent.1 and lwm2m-agentd.8 into `directory` (docs/man in the repository).
    static func writeManPages(into directory: String) -> Int32 {
        for page in [manPage, DaemonHelp.manPage] {
            let path = directory + "/" + page.fileName
            do {
                try AtomicFile.write(Array(page.roff.utf8), to: path, mode: 0o644)
            } catch {
                Console.error("lwm2m-agent: \(path): \(error)\n")
                return 1
            }
            print(path)
        }
        return 0
    }
}
