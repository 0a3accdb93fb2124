import AgentCommon
import AgentDaemon
import Glibc

/// `lwm2m-agentd`: the agent daemon. `--config FILE` runs the LwM2M client (bootstrap,
/// registration, device management) as the configuration file says. It opens no network
/// listening socket (only the owner-only UNIX control socket `lwm2m-agent status` asks); the
/// demo CoAP server is a separate program (`lwm2m-demo`).
@main
struct Daemon {
    /// The usage text: the same as `--help` and the lwm2m-agentd(8) manual page (DaemonHelp).
    static var usage: String { DaemonHelp.help.text }

    static func main() {
        // First of all: a crash must not dump registers and memory (secrets) into the journal.
        let crashPolicyProblem = CrashReportPolicy.enforce(arguments: CommandLine.arguments)
        if let crashPolicyProblem { Console.error("<4>lwm2m-agentd: \(crashPolicyProblem)\n") }
        let arguments = Array(CommandLine.arguments.dropFirst())
        // A hidden, test-only switch: crash on purpose, to check what a crash prints.
        if arguments == ["--crash-for-test"] { crashForTest() }
        // The help text is built only when a help word is there (not on every start).
        if CommandHelp.mentionsHelp(arguments), DaemonHelp.help.asksForHelp(arguments) {
            return print(usage, terminator: "")
        }
        do {
            let parsed = try ParsedArguments(arguments, valueOptions: ["log-level", "config"], flagOptions: ["version", "help"])
            if parsed.flag("version") { return print("lwm2m-agentd \(AgentVersion.string)") }
            if let extra = parsed.positional.first { throw UsageError.unexpectedArgument(extra) }
            guard let path = parsed.value("config") else { throw UsageError.missingArgument("--config FILE") }
            return runClient(configurationPath: path, logLevel: parsed.value("log-level"))
        } catch {
            Console.error("lwm2m-agentd: \(error)\n\n\(usage)\n")
            exit(2)
        }
    }

    /// Configuration mode: the LwM2M client until SIGTERM.
    static func runClient(configurationPath: String, logLevel override: String?) {
        let early = Logger(component: "lwm2m-agentd", level: .info)
        var rebootFailed = false
        // systemd (Type=notify): $NOTIFY_SOCKET is read, and removed from the environment,
        // before anything can start a child. Unset (SysV/BusyBox init, by hand): no notifier.
        var notifier: SystemdNotifier?
        do {
            notifier = try SystemdNotifier.fromEnvironment()
        } catch {
            early.warning("\(error)")
        }
        do {
            let configuration = try AgentLauncher.loadConfiguration(configurationPath)
            var level = configuration.logLevel
            if let override {
                guard let parsed = LogLevel(name: override) else {
                    early.error("--log-level \"\(override)\": expected error, warning, notice, info or debug")
                    exit(2)
                }
                level = parsed
            }
            let log = Logger(component: "lwm2m-agentd", level: level)
            // Before anything touches the state directory: one daemon per state directory.
            let lock = try InstanceLock(directory: configuration.stateDirectory)
            defer { lock.release() }
            let signals = try SignalMonitor(signals: [SIGTERM, SIGINT, SIGHUP, SIGUSR1])
            let runtime = try AgentLauncher.makeRuntime(configuration, configurationPath: configurationPath, log: log,
                                                        signals: signals)
            if let notifier { runtime.notifySystemd(with: notifier, endpoint: configuration.endpointName) }
            // `lwm2m-agent status` asks here; without it the agent still runs (the log says why).
            // The socket and the PID file are made once the first Register is out (whenStarted).
            if let path = configuration.controlSocket { runtime.serveControl(at: path) }
            let pidFile = DaemonPIDFile(directory: configuration.stateDirectory)
            runtime.whenStarted { try? pidFile.write() }
            defer { pidFile.remove() }
            try runtime.run()
            rebootFailed = runtime.rebootFailure != nil
        } catch {
            early.error("\(error)")
            notifier?.send(.status("failed to start: \(error)"))
            exit(1)
        }
        // A server's Reboot that failed: exit with a failure so the service manager restarts us.
        if rebootFailed { exit(1) }
    }

    /// Crashes with a recognisable value in a register and in memory, so a test can check the
    /// crash report shows neither (`--crash-for-test`, not in the usage text).
    static func crashForTest() -> Never {
        let marker: [UInt8] = Array("SECRET-MARKER-5a5a5a5a-do-not-log".utf8)
        let pointer = UnsafeMutablePointer<UInt64>.allocate(capacity: 8)
        marker.withUnsafeBytes { bytes in UnsafeMutableRawPointer(pointer).copyMemory(from: bytes.baseAddress!, byteCount: min(bytes.count, 64)) }
        var value = pointer.pointee
        withUnsafeMutablePointer(to: &value) { _ in }
        Console.error("crashing on purpose (--crash-for-test)\n")
        let index = Int(truncatingIfNeeded: value)
        // An out-of-bounds index: a runtime trap, the way a bug would crash the daemon.
        let small = [pointer.pointee]
        _ = small[index]
        fatalError("unreachable")
    }
}
