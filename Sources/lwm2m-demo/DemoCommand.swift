import AgentCommon
import AgentDemo
import CoAP
import Glibc

/// `lwm2m-demo`: serves the demo resource tree (/.well-known/core, /demo/*, /3/0, /3311/0) as a
/// plain CoAP server, for trying the CoAP engine with any CoAP client. A separate program: the
/// production daemon `lwm2m-agentd` contains no demo code and opens no listening socket.
@main
struct DemoCommand {
    static let usage = """
        usage: lwm2m-demo [options]

          --listen URI           where to listen (default coap://[::]:5683; dual-stack)
          --tick SECONDS         interval of /demo/counter updates (default 1)
          --ack-timeout SECONDS  CoAP ACK_TIMEOUT (default 2; 10-15 on cellular links)
          --log-level LEVEL      error, warning, notice, info (default) or debug
          --version              print the version and exit

        SIGTERM/SIGINT stop the server. Logs go to stderr with journald priority prefixes.
        """

    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let parsed: ParsedArguments
        let logLevel: LogLevel
        let tick: Duration
        var configuration = EndpointConfiguration()
        do {
            parsed = try ParsedArguments(
                arguments, valueOptions: ["listen", "tick", "ack-timeout", "log-level"], flagOptions: ["version", "help"])
            if parsed.flag("help") { return print(usage) }
            if parsed.flag("version") { return print("lwm2m-demo \(AgentVersion.string)") }
            if let extra = parsed.positional.first { throw UsageError.unexpectedArgument(extra) }
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
            Console.error("lwm2m-demo: \(error)\n\n\(usage)\n")
            exit(2)
        }
        let log = Logger(component: "lwm2m-demo", level: logLevel)
        do {
            try DemoServer.serve(listen: parsed.value("listen") ?? "coap://[::]:5683", tick: tick,
                                 configuration: configuration, log: log)
        } catch {
            log.error("\(error)")
            exit(1)
        }
    }
}
