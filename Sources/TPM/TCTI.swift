/// How the agent reaches the TPM: the TCTI ("TPM command transmission interface") that
/// `Tss2_TctiLdr_Initialize` loads.
///
/// Accepted spellings (the same as tpm2-tools' `-T` option):
/// - `device` or `device:/dev/tpmrm0` — the kernel resource manager (the default on boards);
/// - `tabrmd` or `tabrmd:<options>` — the tpm2-abrmd user-space resource manager over D-Bus;
/// - `swtpm` or `swtpm:host=127.0.0.1,port=2321` — a software TPM over TCP (tests, development).
public enum TCTI: Equatable, Sendable, CustomStringConvertible {
    /// A character device, normally `/dev/tpmrm0`.
    case device(path: String)
    /// The tpm2-abrmd daemon; `options` is passed through (e.g. `bus_name=com.intel.tss2.Tabrmd`).
    case tabrmd(options: String?)
    /// swtpm's TCP server socket.
    case swtpm(host: String, port: UInt16)

    /// The kernel resource manager, `device:/dev/tpmrm0`.
    public static let defaultDevice = TCTI.device(path: "/dev/tpmrm0")

    /// Parses a TCTI string; see the type's documentation for the accepted forms.
    public init(parsing text: String) throws(TPMError) {
        let (name, options) = Self.split(text)
        switch name {
        case "device":
            let path = options ?? "/dev/tpmrm0"
            guard path.hasPrefix("/"), !path.contains(",") else {
                throw .invalidConfiguration("TCTI device path must be absolute: \(text)")
            }
            self = .device(path: path)
        case "tabrmd":
            if let options, options.isEmpty || options.contains(" ") {
                throw .invalidConfiguration("malformed tabrmd options: \(text)")
            }
            self = .tabrmd(options: options)
        case "swtpm":
            var host = "127.0.0.1"
            var port: UInt16 = 2321
            for pair in (options ?? "").split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, !parts[1].isEmpty else {
                    throw .invalidConfiguration("malformed swtpm option '\(pair)' in \(text)")
                }
                switch parts[0] {
                case "host": host = String(parts[1])
                case "port":
                    guard let value = UInt16(parts[1]), value != 0 else {
                        throw .invalidConfiguration("swtpm port must be 1...65535: \(text)")
                    }
                    port = value
                default:
                    throw .invalidConfiguration("unknown swtpm option '\(parts[0])' in \(text)")
                }
            }
            self = .swtpm(host: host, port: port)
        default:
            throw .invalidConfiguration(
                "unknown TCTI '\(name)' (expected device:<path>, tabrmd or swtpm:host=...,port=...)")
        }
    }

    /// The configuration string handed to `Tss2_TctiLdr_Initialize`.
    public var loaderString: String {
        switch self {
        case .device(let path): return "device:\(path)"
        case .tabrmd(let options): return options.map { "tabrmd:\($0)" } ?? "tabrmd"
        case .swtpm(let host, let port): return "swtpm:host=\(host),port=\(port)"
        }
    }

    public var description: String { loaderString }

    private static func split(_ text: String) -> (String, String?) {
        guard let colon = text.firstIndex(of: ":") else { return (text, nil) }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }
}
