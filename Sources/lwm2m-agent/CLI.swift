import AgentCommon
import AgentDaemon
import AgentCLI
import CoAP
import DTLS
import LwM2M
import Glibc
import Transport

/// `lwm2m-agent`: the operator and factory command-line tool.
@main
struct CLI {
    /// The usage text of a usage error: the overview `lwm2m-agent --help` prints (Help/CLIHelp.swift;
    /// each command's own help: `lwm2m-agent COMMAND --help`).
    static var usage: String { CLIHelp.overview.text }

    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard let command = arguments.first else { usageError("missing command") }
        arguments.removeFirst()
        // `COMMAND [SUBCOMMAND] --help` (or -h): that command's help on standard output, exit 0.
        if command != "help", let help = CLIHelp.command(command), help.asksForHelp(arguments) {
            print(CLIHelp.resolve(help, arguments).text, terminator: "")
            exit(0)
        }
        switch command {
        case "version", "--version": print("lwm2m-agent \(AgentVersion.string)")
        case "--help", "-h": print(usage, terminator: "")
        case "help": exit(CLIHelp.run(arguments))
        case "coap": exit(coap(arguments))
        case "state": exit(state(arguments))
        case "status": exit(StatusCommand.run(arguments))
        case "factory-reset": exit(factoryReset(arguments))
        case "factory": exit(FactoryCommand.run(arguments))
        case "board": exit(BoardCommand.run(arguments))
        case "firmware":
            // keygen|sign|verify: packages; fetch: downloads.
            if arguments.isEmpty { usageError("firmware needs a subcommand: keygen, sign, verify or fetch") }
            exit(FirmwarePackageCommand.subcommands.contains(arguments.first ?? "")
                 ? FirmwarePackageCommand.run(arguments) : FirmwareCommand.run(arguments))
        case "gpio": exit(GPIOCommand.run(arguments))  // hidden: bring-up and the VM tests
        default: usageError("unknown command \"\(command)\"")
        }
    }

    /// Runs `body` with the parsed arguments, the configuration named by `--config`, and its
    /// state store; usage errors exit 2, other failures print and return 1.
    static func withConfiguration(
        _ arguments: [String], flags: Set<String> = [],
        _ body: (ParsedArguments, AgentConfiguration, StateStore) throws -> Int32
    ) -> Int32 {
        do {
            let parsed = try ParsedArguments(arguments, valueOptions: ["config"], flagOptions: flags)
            guard let path = parsed.value("config") else { throw UsageError.missingArgument("--config FILE") }
            let configuration = try AgentLauncher.loadConfiguration(path)
            return try body(parsed, configuration, StateStore(readingFrom: configuration.stateDirectory))
        } catch let error as UsageError {
            usageError("\(error)")
        } catch {
            Console.error("lwm2m-agent: \(error)\n")
            return 1
        }
    }

    static func state(_ arguments: [String]) -> Int32 {
        withConfiguration(arguments, flags: ["json"]) { parsed, configuration, store in
            guard parsed.positional == ["show"] else { throw UsageError.missingArgument("show") }
            let snapshot: ConfigurationSnapshot
            let source: String
            switch store.peek() {  // a look changes nothing
            case .none:
                (snapshot, source) = (configuration.factorySnapshot, "factory accounts (nothing saved yet)")
            case .state(let saved):
                (snapshot, source) = (saved, "saved in \(store.path)")
            case .unreadable(let why, _):
                Console.error("lwm2m-agent: saved configuration \(store.path) unreadable: \(why) (left as it is)\n")
                return 1
            }
            print(StateReport.render(snapshot, source: source, endpointName: configuration.endpointName,
                                     json: parsed.flag("json")), terminator: parsed.flag("json") ? "\n" : "")
            return 0
        }
    }

    static func factoryReset(_ arguments: [String]) -> Int32 {
        withConfiguration(arguments) { _, configuration, store in
            if let pid = DaemonPIDFile(directory: configuration.stateDirectory).runningProcess() {
                kill(pid, SIGUSR1)
                print("factory reset requested from lwm2m-agentd (pid \(pid))")
            } else {
                try store.remove()
                print("saved configuration removed: the next start uses the factory accounts")
            }
            return 0
        }
    }

    static func usageError(_ message: String) -> Never {
        Console.error("lwm2m-agent: \(message)\n\n\(usage)\n")
        exit(2)
    }

    static func coap(_ arguments: [String]) -> Int32 {
        let methods: [String: CoAPCode] = [
            "get": .get, "post": .post, "put": .put, "delete": .delete, "fetch": .fetch, "ipatch": .iPatch,
        ]
        var configuration = EndpointConfiguration()
        let parsed: ParsedArguments
        let request: CoAPRequest
        let timeout: Duration
        let isPing: Bool
        do {
            parsed = try ParsedArguments(
                arguments,
                valueOptions: (["payload", "payload-file", "content-format", "accept", "block-size",
                               "ack-timeout", "timeout"] as Set<String>).union(DTLSOptions.valueOptions),
                flagOptions: ["non", "verbose"])
            guard parsed.positional.count == 2 else { throw UsageError.missingArgument("METHOD and URI") }
            isPing = parsed.positional[0] == "ping"
            guard let method = isPing ? .empty : methods[parsed.positional[0].lowercased()] else {
                throw UsageError.invalidValue("method", parsed.positional[0], "expected get, post, put, delete, fetch, ipatch or ping")
            }
            var options: [CoAPOption] = []
            let contentFormat = try parsed.integer("content-format", in: 0...65535, default: -1)
            if contentFormat >= 0 { options.append(CoAPOption(.contentFormat, uint: UInt32(contentFormat))) }
            let accept = try parsed.integer("accept", in: 0...65535, default: -1)
            if accept >= 0 { options.append(CoAPOption(.accept, uint: UInt32(accept))) }
            var payload = Array((parsed.value("payload") ?? "").utf8)
            if let path = parsed.value("payload-file") {
                guard let bytes = readFile(path) else { throw UsageError.invalidValue("payload-file", path, "cannot read it") }
                payload = bytes
            }
            let blockSize = try parsed.integer("block-size", in: 16...1024, default: 1024)
            guard blockSize & (blockSize - 1) == 0 else {
                throw UsageError.invalidValue("block-size", String(blockSize), "expected a power of two")
            }
            configuration.preferredBlockSZX = BlockValue.szx(forSize: blockSize)
            if let ack = try parsed.seconds("ack-timeout", default: nil) { configuration.transmission.ackTimeout = ack }
            timeout = try parsed.seconds("timeout", default: .seconds(100))!
            request = CoAPRequest(method, options: options, payload: payload, confirmable: !parsed.flag("non"))
        } catch {
            usageError("\(error)")
        }

        let response: CoAPMessage
        do {
            if parsed.positional[1].lowercased().hasPrefix("coaps:") {
                let dtls: DTLSConfiguration
                do {
                    guard let given = try DTLSOptions.configuration(from: parsed) else {
                        throw UsageError.missingArgument("--psk-identity/--psk-key-file, --cert/--key or --rpk-key/--server-public-key for coaps://")
                    }
                    dtls = given
                } catch { usageError("\(error)") }
                let exchange = try SecureOneShotClient.perform(
                    request, uri: parsed.positional[1], configuration: configuration, dtls: dtls, timeout: timeout, ping: isPing)
                response = exchange.response
                if parsed.flag("verbose") {
                    Console.error("DTLS \(exchange.cipherSuite): handshake \(exchange.handshakeDuration), total \(exchange.totalDuration)\n")
                }
            } else {
                response = try OneShotClient.perform(
                    request, uri: parsed.positional[1], configuration: configuration, timeout: timeout, ping: isPing)
            }
        } catch {
            Console.error("lwm2m-agent: \(Logger.escaped("\(error)"))\n")  // may quote the server
            return 3
        }
        if isPing {
            print("pong")
            return 0
        }
        if parsed.flag("verbose") {
            let options = response.options.map(\.description).joined(separator: " ")
            Console.error(Logger.escaped("\(response.code) \(response.code.name ?? "") \(options)") + "\n")
        }
        Console.output(response.payload)
        if !response.payload.isEmpty, isatty(1) != 0, response.payload.last != UInt8(ascii: "\n") { Console.output([10]) }
        return response.code.isSuccess ? 0 : 1
    }

    /// Reads a whole file (or standard input for "-") without Foundation.
    static func readFile(_ path: String) -> [UInt8]? {
        let fd = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { if fd != 0 { close(fd) } }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 { if errno == EINTR { continue } else { return nil } }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }
}
