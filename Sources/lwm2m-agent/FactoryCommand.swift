import AgentCommon
import AgentDaemon
import AgentCLI
import Credentials
import Glibc

/// `lwm2m-agent factory ...`: the factory provisioning command (docs/factory-provisioning.md).
enum FactoryCommand {
    // The help and usage text: Help/FactoryHelp.swift.

    static func run(_ arguments: [String]) -> Int32 {
        if arguments.contains(where: { $0 == "--psk-key" || $0.hasPrefix("--psk-key=") || $0 == "--secret" }) {
            return usageFailure("secrets are never taken from the command line: use --psk-key-file PATH or --psk-key-stdin")
        }
        let parsed: ParsedArguments
        do {
            parsed = try ParsedArguments(arguments, valueOptions: [
                "config", "uri", "security-mode", "psk-identity", "psk-key-file", "server-certificate-file", "server-public-key-file",
                "client-certificate-file", "certificate-usage", "sni", "csr-out", "public-key-out", "lifetime", "binding",
            ], flagOptions: ["json", "psk-key-stdin", "generate-key", "regenerate-key", "no-qr"])
        } catch {
            return usageFailure("\(error)")
        }
        let json = parsed.flag("json")
        do {
            guard let subcommand = parsed.positional.first else { throw FactoryError.usage("missing factory subcommand") }
            let operands = Array(parsed.positional.dropFirst())
            guard let path = parsed.value("config") else { throw FactoryError.usage("missing --config FILE") }
            let provisioner = try FactoryProvisioner(configurationPath: path)
            var report: FactoryReport
            switch subcommand {
            case "set-endpoint":
                report = try provisioner.setEndpoint(try single(operands, "NAME_OR_TEMPLATE"))
            case "set-bootstrap":
                guard operands.isEmpty else { throw FactoryError.usage("unexpected \(operands[0])") }
                report = try provisioner.setAccount(.bootstrap, try accountOptions(parsed, server: false))
            case "add-server":
                let ssid = try shortServerID(try single(operands, "SSID"))
                report = try provisioner.setAccount(.server(ssid), try accountOptions(parsed, server: true))
            case "set-bootstrap-certificate":
                report = try provisioner.setCertificate(.bootstrap, file: try single(operands, "FILE"))
            case "set-server-certificate":
                guard operands.count == 2 else { throw FactoryError.usage("expected SSID FILE") }
                report = try provisioner.setCertificate(.server(try shortServerID(operands[0])), file: operands[1])
            case "remove-server":
                report = try provisioner.removeServer(try shortServerID(try single(operands, "SSID")))
            case "csr":
                let which = try single(operands, "bootstrap or SSID")
                guard let out = parsed.value("csr-out") else { throw FactoryError.usage("missing --csr-out PATH") }
                report = try provisioner.writeCSR(which == "bootstrap" ? .bootstrap : .server(try shortServerID(which)), to: out)
            case "show":
                report = try provisioner.show()
            case "verify":
                report = .object([])
                do {
                    try provisioner.verify(report: &report)
                } catch {
                    emit(report, json: json, qr: false)
                    throw error
                }
            case "wipe":
                report = try provisioner.wipe()
            default:
                throw FactoryError.usage("unknown factory subcommand \"\(subcommand)\"")
            }
            emit(report, json: json, qr: !parsed.flag("no-qr"))
            return 0
        } catch let error as FactoryError {
            if case .usage(let why) = error { return usageFailure(why) }
            // verify has printed its report already: one JSON object per run.
            if json, case .verificationFailed = error {} else if json {
                print(FactoryReport.object([("error", .text("\(error)"))]).json)
            }
            Console.error("lwm2m-agent factory: \(error)\n")
            return error.exitStatus
        } catch {
            Console.error("lwm2m-agent factory: \(error)\n")
            return 1
        }
    }

    static func usageFailure(_ message: String) -> Int32 {
        Console.error("lwm2m-agent factory: \(message)\n\n\(usage)\n")
        return 2
    }

    static func single(_ operands: [String], _ what: String) throws(FactoryError) -> String {
        guard operands.count == 1 else { throw .usage("expected \(what)") }
        return operands[0]
    }

    static func shortServerID(_ text: String) throws(FactoryError) -> UInt16 {
        guard let ssid = UInt16(text), ssid > 0, ssid < 65535 else { throw .usage("SSID must be 1…65534: \(text)") }
        return ssid
    }

    static func accountOptions(_ parsed: ParsedArguments, server: Bool) throws(FactoryError) -> FactoryAccountOptions {
        guard let uri = parsed.value("uri") else { throw .usage("missing --uri URI") }
        guard let mode = parsed.value("security-mode") else { throw .usage("missing --security-mode psk|certificate|rpk|nosec") }
        var options = FactoryAccountOptions(uri: uri, securityMode: mode)
        options.pskIdentity = parsed.value("psk-identity")
        options.generateKey = parsed.flag("generate-key")
        options.regenerateKey = parsed.flag("regenerate-key")
        options.serverCertificateFile = parsed.value("server-certificate-file")
        options.serverPublicKeyFile = parsed.value("server-public-key-file")
        options.clientCertificateFile = parsed.value("client-certificate-file")
        options.certificateUsage = parsed.value("certificate-usage")
        options.serverNameIndication = parsed.value("sni")
        options.csrPath = parsed.value("csr-out")
        options.publicKeyPath = parsed.value("public-key-out")
        if server {
            if let lifetime = parsed.value("lifetime") { options.extra.append(.init("lifetime", lifetime)) }
            if let binding = parsed.value("binding") { options.extra.append(.init("binding", binding)) }
        } else if parsed.value("lifetime") != nil || parsed.value("binding") != nil {
            throw .usage("--lifetime and --binding are for add-server")
        }
        let file = parsed.value("psk-key-file")
        if file != nil && parsed.flag("psk-key-stdin") { throw .usage("give --psk-key-file or --psk-key-stdin, not both") }
        if let source = file ?? (parsed.flag("psk-key-stdin") ? "/dev/stdin" : nil) {
            guard mode == "psk" else { throw .usage("a PSK key is for --security-mode psk") }
            do {
                options.pskKey = try KeyFile.pskKey(source)
            } catch {
                throw .usage("PSK key: \(error)")
            }
        }
        return options
    }

    /// Prints the report; a public-key hash also as a QR code (text output only).
    static func emit(_ report: FactoryReport, json: Bool, qr: Bool) {
        if json {
            print(report.json)
            return
        }
        print(report.text().dropFirst())
        guard qr, case .object(let fields) = report,
              case .text(let hash)? = fields.first(where: { $0.0 == "public-key-sha256" })?.1,
              let code = try? QRCode(Array(hash.utf8), errorCorrection: .medium) else { return }
        print("\nSHA-256 of the public key (SubjectPublicKeyInfo, DER), for out-of-band registration:\n\(hash)\n")
        print(code.terminalText(ansi: isatty(1) != 0), terminator: "")
    }
}
