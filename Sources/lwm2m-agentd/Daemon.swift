import Agent
import CoAP
import Glibc
import Transport

/// `lwm2m-agentd`: the agent daemon. `--config FILE` runs the LwM2M client (bootstrap,
/// registration, device management) as the configuration file says; `--demo` serves the demo
/// resource tree as a plain CoAP server.
@main
struct Daemon {
    static let usage = """
        usage: lwm2m-agentd --config FILE [--log-level LEVEL]
               lwm2m-agentd --demo [options]

          --config FILE          run the LwM2M client as FILE says (format: docs/configuration.md)
          --demo                 serve the demo resources (/.well-known/core, /demo/*)
          --listen URI           where to listen (default coap://[::]:5683; dual-stack)
          --tick SECONDS         interval of /demo/counter updates (default 1)
          --ack-timeout SECONDS  CoAP ACK_TIMEOUT (default 2; 10-15 on cellular links)
          --log-level LEVEL      error, warning, notice, info (default) or debug
          --version              print the version and exit

        SIGTERM/SIGINT de-register and stop the daemon; SIGHUP reloads the configuration file
        (factory accounts, log level); SIGUSR1 is a factory reset (lwm2m-agent factory-reset). Logs go to stderr with journald priority prefixes.
        """

    static func main() {
        // First of all: a crash must not dump registers and memory (secrets) into the journal.
        let crashPolicyProblem = CrashReportPolicy.enforce(arguments: CommandLine.arguments)
        if let crashPolicyProblem { Console.error("<4>lwm2m-agentd: \(crashPolicyProblem)\n") }
        let arguments = Array(CommandLine.arguments.dropFirst())
        // A hidden, test-only switch: crash on purpose, to check what a crash prints.
        if arguments == ["--crash-for-test"] { crashForTest() }
        let parsed: ParsedArguments
        let logLevel: LogLevel
        let tick: Duration
        var configuration = EndpointConfiguration()
        do {
            parsed = try ParsedArguments(
                arguments, valueOptions: ["listen", "tick", "ack-timeout", "log-level", "config"],
                flagOptions: ["demo", "version", "help"])
            if parsed.flag("help") { return print(usage) }
            if parsed.flag("version") { return print("lwm2m-agentd \(AgentVersion.string)") }
            if let extra = parsed.positional.first { throw UsageError.unexpectedArgument(extra) }
            if let path = parsed.value("config") {
                guard !parsed.flag("demo") else { throw UsageError.unexpectedArgument("--demo (with --config)") }
                return runClient(configurationPath: path, logLevel: parsed.value("log-level"))
            }
            guard parsed.flag("demo") else { throw UsageError.missingArgument("--config FILE or --demo") }
            let levelName = parsed.value("log-level") ?? "info"
            guard let level = LogLevel(name: levelName) else {
                throw UsageError.invalidValue("log-level", levelName, "expected error, warning, notice, info or debug")
            }
            logLevel = level
            tick = try parsed.seconds("tick", default: .seconds(1))!
            guard tick >= .milliseconds(10) else {
                throw UsageError.invalidValue("tick", parsed.value("tick") ?? "", "expected at least 0.01 seconds")
            }
            if let ack = try parsed.seconds("ack-timeout", default: nil) { configuration.transmission.ackTimeout = ack }
        } catch {
            Console.error("lwm2m-agentd: \(error)\n\n\(usage)\n")
            exit(2)
        }
        let log = Logger(component: "lwm2m-agentd", level: logLevel)
        do {
            try serveDemo(listen: parsed.value("listen") ?? "coap://[::]:5683", tick: tick,
                          configuration: configuration, log: log)
        } catch {
            log.error("\(error)")
            exit(1)
        }
    }

    /// Configuration mode: the LwM2M client until SIGTERM.
    static func runClient(configurationPath: String, logLevel override: String?) {
        let early = Logger(component: "lwm2m-agentd", level: .info)
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
            let pidFile = DaemonPIDFile(directory: configuration.stateDirectory)
            try? pidFile.write()
            defer { pidFile.remove() }
            try runtime.run()
        } catch {
            early.error("\(error)")
            exit(1)
        }
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

    static func serveDemo(listen: String, tick: Duration, configuration: EndpointConfiguration, log: Logger) throws {
        let uri = try CoAPURI(listen)
        guard uri.scheme == .coap else { throw OneShotError.unsupportedScheme(uri.scheme.rawValue) }
        let address = try Resolver.resolve(host: uri.host, port: uri.port)[0]
        let socket = try UDPSocket(bindingTo: address)
        let signals = try SignalMonitor()
        let runner = EndpointRunner(sockets: [socket], configuration: configuration, wakeUp: signals.wakeUp)
        var demo = DemoResources(tickInterval: tick, now: MonotonicClock.now())
        log.notice("serving demo resources on coap://\(socket.localAddress)")

        var running = true
        while running {
            let woken = try runner.runOnce(until: demo.nextDeadline) { event, endpoint, now in
                switch event {
                case .request(let request):
                    log.debug("\(request.peer) \(request.message.code) \(request.message.path)")
                    demo.handle(request, endpoint: &endpoint, at: now)
                case .observationEnded(let id, let reason):
                    log.info("observation \(id) ended: \(reason)")
                    demo.observationEnded(id)
                case .malformedDatagram(let peer, let error):
                    log.info("dropped malformed datagram from \(peer): \(error)")
                case .response, .requestFailed, .pong:
                    break
                }
            }
            demo.tick(endpoint: &runner.endpoint, at: MonotonicClock.now())
            guard woken else { continue }
            for signal in signals.takeSignals() {
                switch signal {
                case SIGHUP: log.notice("SIGHUP: nothing to reload in demo mode")
                default:
                    log.notice("signal \(signal): stopping")
                    running = false
                }
            }
        }
        runner.flush({ _, _, _ in }, at: MonotonicClock.now())
        log.notice("stopped (\(runner.receivedCount) datagrams received, \(runner.sentCount) sent)")
    }
}
