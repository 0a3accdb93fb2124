import AgentCommon
import Glibc
import Files

/// Why an endpoint name could not be made.
public enum EndpointNameError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownPlaceholder(String)
    case unterminatedPlaceholder
    case missingValue(String, String)
    case invalidName(String)

    public var description: String {
        switch self {
        case .unknownPlaceholder(let name):
            "unknown placeholder {\(shortened(name))} (known: {machine-id}, {hostname}, {serial}, {iccid})"
        case .unterminatedPlaceholder: "\"{\" without \"}\""
        case .missingValue(let name, let why): "cannot fill {\(name)}: \(why)"
        case .invalidName(let name): "endpoint name \(quoted(name)) must be 1–255 printable characters without spaces, \"&\" or \"=\""
        }
    }
}

/// An endpoint client name, literal or made from the machine: `gw-{serial}`, `urn:dev:{machine-id}`,
/// `{iccid}` (the SIM's ICCID, as 1NCE names devices, from the first line of `iccidFile`).
public struct EndpointNameTemplate: Sendable {
    /// The largest `serial-file` / `iccid-file` read (a serial number or an ICCID is a line):
    /// `/dev/zero` or a runaway file is refused, not read whole.
    public static let maximumFileSize = 4096

    /// Where placeholder values come from (injectable for tests).
    public struct Environment: Sendable {
        public var machineID: @Sendable () -> String?
        public var hostname: @Sendable () -> String?
        /// The first line of a file; nil when there is none, throws when it cannot be read
        /// (not a regular file, larger than ``maximumFileSize``).
        public var readFile: @Sendable (String) throws(FileError) -> String?

        public init(machineID: @escaping @Sendable () -> String?, hostname: @escaping @Sendable () -> String?,
                    readFile: @escaping @Sendable (String) throws(FileError) -> String?) {
            self.machineID = machineID
            self.hostname = hostname
            self.readFile = readFile
        }

        /// This machine: /etc/machine-id, gethostname(2), files as they are.
        public static let system = Environment(
            machineID: { try? readText("/etc/machine-id") },
            hostname: {
                var buffer = [CChar](repeating: 0, count: 256)
                guard gethostname(&buffer, buffer.count) == 0 else { return nil }
                return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            },
            readFile: { (path) throws(FileError) in try readText(path) })

        private static func readText(_ path: String) throws(FileError) -> String? {
            let bytes: [UInt8]
            do {
                bytes = try FileReader.read(path, maximumSize: EndpointNameTemplate.maximumFileSize)
            } catch {
                if error.isNotFound { return nil }
                throw error
            }
            // Device-tree strings end in NUL; files in a newline.
            let text = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            return text.trimmingSpaces().split(separator: "\n").first.map(String.init)
        }
    }

    public let template: String

    public init(_ template: String) { self.template = template }

    /// The name with every placeholder filled.
    public func expand(_ environment: Environment, serialFile: String,
                       iccidFile: String = "/run/lwm2m-agent/iccid") throws(EndpointNameError) -> String {
        var result = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            result += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else { throw .unterminatedPlaceholder }
            let name = String(rest[rest.index(after: open)..<close])
            let value: String?
            switch name {
            case "machine-id": value = environment.machineID()
            case "hostname": value = environment.hostname()
            case "serial", "iccid":
                let file = name == "serial" ? serialFile : iccidFile
                do {
                    value = try environment.readFile(file)
                } catch {
                    throw .missingValue(name, "\(error)")
                }
            default: throw .unknownPlaceholder(name)
            }
            guard let value, !value.isEmpty else {
                let file = name == "serial" ? serialFile : name == "iccid" ? iccidFile : nil
                throw .missingValue(name, file.map { "\($0) is missing or empty" } ?? "not available")
            }
            result += value
            rest = rest[rest.index(after: close)...]
        }
        result += rest
        let valid = !result.isEmpty && result.utf8.count <= 255
            && result.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "&") && $0 != UInt8(ascii: "=") }
        guard valid else { throw .invalidName(result) }
        return result
    }
}
