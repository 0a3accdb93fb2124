/// The probe's command line.
struct Arguments {
    static let usage = """
        usage: lwm2m-edge-probe --pull PATH --port PORT [--edges N] [--interval-ms MS]
                                [--timeout-ms MS] [--interface IFACE] [--samples]
          --pull PATH        a gpio-sim line's sysfs pull file (.../sim_gpioK/pull): pull-up and
                             pull-down are written to it alternately, each write one edge
          --port PORT        the server's UDP port: notifications are datagrams sent to it
          --edges N          edges to measure (default 200, 1...100000)
          --interval-ms MS   pause after each edge's notification (default 20, 0...60000)
          --timeout-ms MS    an edge without a notification within MS is lost (default 1000)
          --interface IFACE  the interface the datagrams leave by (default eth0)
          --samples          one line per edge besides the summary
        Prints `edge-to-notification n=.. median=..ms p99=..ms max=..ms lost=..`. Needs CAP_NET_RAW.
        Exit status: 0 every edge had its notification, 1 some were lost, 2 bad arguments,
        3 a system call failed.
        """

    var pullPath = ""
    var port: UInt16 = 0
    var edges = 200
    var intervalMilliseconds = 20
    var timeoutMilliseconds = 1000
    var interface = "eth0"
    var printsSamples = false

    /// Parses `arguments` (without the program name); the error is the reason, for the usage text.
    init(_ arguments: [String]) throws(UsageError) {
        var rest = arguments[...]
        func value(_ option: String) throws(UsageError) -> String {
            guard let next = rest.popFirst() else { throw UsageError("\(option) needs a value") }
            return next
        }
        func number(_ option: String, _ range: ClosedRange<Int>) throws(UsageError) -> Int {
            let text = try value(option)
            guard let parsed = Int(text), range.contains(parsed) else {
                throw UsageError("\(option) \(text): expected a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            return parsed
        }
        while let option = rest.popFirst() {
            switch option {
            case "--pull": pullPath = try value(option)
            case "--port": port = UInt16(try number(option, 1...65_535))
            case "--edges": edges = try number(option, 1...100_000)
            case "--interval-ms": intervalMilliseconds = try number(option, 0...60_000)
            case "--timeout-ms": timeoutMilliseconds = try number(option, 1...600_000)
            case "--interface":
                interface = try value(option)
                guard !interface.isEmpty, interface.utf8.count < 16 else { throw UsageError("bad interface name \(interface)") }
            case "--samples": printsSamples = true
            default: throw UsageError("unknown argument \(option)")
            }
        }
        guard !pullPath.isEmpty else { throw UsageError("--pull is required") }
        guard port != 0 else { throw UsageError("--port is required") }
    }
}

struct UsageError: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}
