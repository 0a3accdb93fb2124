import AgentCommon
import AgentDaemon
import Glibc

/// `lwm2m-agent status`: asks the running daemon (its control socket) where it stands.
enum StatusCommand {
    // The help and usage text: Help/StatusHelp.swift.

    /// No daemon runs with this configuration.
    static let notRunning: Int32 = 3
    static let defaultConfiguration = "/etc/lwm2m-agent/agent.conf"

    static func run(_ arguments: [String]) -> Int32 {
        let parsed: ParsedArguments
        let timeout: Duration
        do {
            parsed = try ParsedArguments(arguments, valueOptions: ["config", "timeout"], flagOptions: ["json"])
            if let extra = parsed.positional.first { throw UsageError.unexpectedArgument(extra) }
            timeout = try parsed.seconds("timeout", default: .seconds(5))!
        } catch {
            CLI.usageError("\(error)")
        }
        let configurationPath = parsed.value("config") ?? defaultConfiguration
        let configuration: AgentConfiguration
        do {
            configuration = try AgentLauncher.loadConfiguration(configurationPath)
        } catch {
            Console.error("lwm2m-agent: \(error)\n")
            return 1
        }
        let running = DaemonPIDFile(directory: configuration.stateDirectory).runningProcess()
        guard let path = configuration.controlSocket else {
            Console.error("lwm2m-agent: control-socket = none in \(configurationPath): the daemon"
                          + (running.map { " (pid \($0))" } ?? "") + " does not answer status requests\n")
            return running == nil ? notRunning : 1
        }
        do {
            let answer = try ControlClient.request(parsed.flag("json") ? "status json" : "status", path: path, timeout: timeout)
            if answer.hasPrefix("error:") {
                Console.error("lwm2m-agent: lwm2m-agentd answered: \(answer.dropFirst(7))")
                return 1
            }
            Console.output(Array(answer.utf8))
            return 0
        } catch .notRunning(let path) {
            if let running {
                // A daemon runs with this state directory but does not answer: its log says why.
                Console.error("lwm2m-agent: lwm2m-agentd (pid \(running)) runs but does not answer on \(path) (see its log)\n")
                return 1
            }
            Console.error("lwm2m-agent: lwm2m-agentd is not running (no daemon answers on \(path))\n")
            return notRunning
        } catch {
            Console.error("lwm2m-agent: \(error)\n")
            return 1
        }
    }
}
