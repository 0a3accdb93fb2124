import AgentCommon
import CoAP
import Files
import Firmware
import Glibc
import Transport

/// `lwm2m-agent firmware fetch URI --output FILE [--resume]`: a firmware pull as the agent does
/// it (the same ``FirmwareFetch`` code), for trying a server or a URI by hand.
enum FirmwareCommand {
    // The help and usage text: Help/FirmwareHelp.swift.

    static func run(_ arguments: [String]) -> Int32 {
        let parsed: ParsedArguments
        var options = FirmwareFetch.Options()
        let output: String
        let maximumSize: Int64?
        do {
            parsed = try ParsedArguments(
                arguments,
                valueOptions: (["output", "http-ca", "block-size", "ack-timeout", "max-retransmit", "connect-timeout",
                                "stall-timeout", "max-size", "timeout"] as Set<String>).union(DTLSOptions.valueOptions),
                flagOptions: ["resume", "progress", "report-memory"])
            guard parsed.positional.count == 2, parsed.positional[0] == "fetch" else {
                throw UsageError.missingArgument("fetch URI")
            }
            guard let path = parsed.value("output") else { throw UsageError.missingArgument("--output FILE") }
            output = path
            let blockSize = try parsed.integer("block-size", in: 16...1024, default: 1024)
            guard blockSize & (blockSize - 1) == 0 else {
                throw UsageError.invalidValue("block-size", String(blockSize), "expected a power of two")
            }
            options.coap.blockSZX = BlockValue.szx(forSize: blockSize)
            options.coap.endpoint.preferredBlockSZX = options.coap.blockSZX
            if let ack = try parsed.seconds("ack-timeout", default: nil) { options.coap.endpoint.transmission.ackTimeout = ack }
            options.coap.endpoint.transmission.maxRetransmit = try parsed.integer("max-retransmit", in: 0...10, default: 4)
            options.http.caFile = parsed.value("http-ca")
            if let connect = try parsed.seconds("connect-timeout", default: nil) { options.http.connectTimeout = connect }
            if let stall = try parsed.seconds("stall-timeout", default: nil) { options.http.stallTimeout = stall }
            options.timeout = try parsed.seconds("timeout", default: .seconds(3600))!
            let limit = try parsed.integer("max-size", in: 0...Int.max, default: -1)
            maximumSize = limit >= 0 ? Int64(limit) : nil
            if parsed.positional[1].lowercased().hasPrefix("coaps:") {
                guard let dtls = try DTLSOptions.configuration(from: parsed) else {
                    throw UsageError.missingArgument("--psk-identity/--psk-key-file, --cert/--key or --rpk-key/--server-public-key for coaps://")
                }
                options.coap.dtls = dtls
            }
        } catch {
            CLI.usageError("\(error)")
        }

        let sink: FileDownloadSink
        do { sink = try FileDownloadSink(path: output, maximumSize: maximumSize) } catch {
            Console.error("lwm2m-agent: \(error)\n")
            return 1
        }
        let validatorPath = output + ".validator"
        var resume: ResumePoint? = nil
        if parsed.flag("resume") {
            resume = ResumePoint(offset: sink.size, validator: CLI.readFile(validatorPath))
        }
        let reportMemory = parsed.flag("report-memory")
        let rssBefore = memoryFigure("VmRSS")
        if reportMemory { Console.error("rss-before-kib \(rssBefore)\n") }
        let showProgress = parsed.flag("progress")
        var savedValidator: [UInt8]? = resume?.validator
        var lastReport: Int64 = -1
        let started = MonotonicClock.now()
        let startOffset = resume.map { _ in sink.size } ?? 0
        var rssStreaming = 0
        let result = FirmwareFetch.run(parsed.positional[1], into: sink, resume: resume, options: options) { progress in
            // RSS once the transfer runs (connection, TLS and library set up): what follows is the
            // download's own growth.
            if reportMemory, rssStreaming == 0, progress.received - startOffset >= 1 << 20 {
                rssStreaming = memoryFigure("VmRSS")
            }
            // The validator is saved as soon as it is known, so a killed fetch can be resumed.
            if progress.validator != savedValidator {
                savedValidator = progress.validator
                if let validator = progress.validator {
                    try? AtomicFile.write(validator, to: validatorPath)
                } else {
                    try? AtomicFile.remove(validatorPath)
                }
            }
            if showProgress, progress.received >= lastReport + (1 << 20) || progress.received == progress.total {
                lastReport = progress.received
                Console.error("progress \(progress.received)\(progress.total.map { "/\($0)" } ?? "")\n")
            }
        }
        let elapsed = MonotonicClock.now() - started
        if reportMemory {
            Console.error("rss-streaming-kib \(rssStreaming) rss-peak-kib \(memoryFigure("VmHWM")) rss-after-kib \(memoryFigure("VmRSS"))\n")
        }
        switch result {
        case .success(let progress):
            try? AtomicFile.remove(validatorPath)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let start = resume == nil ? "from byte 0" : "resumed with \(startOffset) bytes stored"
            print("fetched \(progress.received) bytes into \(output) (\(start)) in \(seconds) s")
            return 0
        case .failure(let error):
            Console.error("lwm2m-agent: \(Logger.escaped("\(error)")) (Update Result \(error.updateResultCode)); \(sink.size) bytes stored\n")
            return error.isResumable ? 3 : 1
        }
    }

    /// A figure of /proc/self/status in KiB ("VmRSS", "VmHWM"); 0 if unreadable.
    static func memoryFigure(_ name: String) -> Int {
        guard let bytes = CLI.readFile("/proc/self/status") else { return 0 }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix(name + ":") {
            return Int(line.dropFirst(name.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? 0
        }
        return 0
    }
}
