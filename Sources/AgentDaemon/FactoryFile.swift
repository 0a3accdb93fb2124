import AgentCommon
/// `<state-dir>/factory.conf`: what the factory line provisioned (docs/factory-provisioning.md).
///
/// Same syntax as the agent configuration, with only `[identity]` (`endpoint-name`),
/// `[bootstrap]` and `[server N]` sections and the account keys of docs/configuration.md. Its
/// endpoint name overrides the agent file's and its accounts replace the agent file's. It holds
/// no secret: `secret-key` names a sealed secret, `tpm-key:NAME` a TPM signing key.
public struct FactoryFile: Sendable, Equatable {
    /// One `key = value` line.
    public struct Setting: Sendable, Equatable {
        /// The key, e.g. `uri`.
        public var key: String
        /// The value as written.
        public var value: String

        /// A `key = value` line.
        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    /// The endpoint name or template (`[identity] endpoint-name`).
    public var endpointName: String?
    /// The `[bootstrap]` settings, in file order.
    public var bootstrap: [Setting]?
    /// The `[server N]` settings by Short Server ID.
    public var servers: [UInt16: [Setting]] = [:]

    /// An empty factory file.
    public init() {}

    /// Parses and checks `text` (accounts are checked as the agent file's are).
    public init(parsing text: String) throws(ConfigFileError) {
        let file = try ConfigFile(parsing: text)
        for section in file.sections where !["identity", "bootstrap", "server"].contains(section.kind) {
            throw ConfigFileError(line: section.line, "unknown section [\(shortened(section.kind))] (a factory file has [identity], [bootstrap] and [server N])")
        }
        if let identity = file.sections("identity").first {
            for entry in identity.entries where entry.key != "endpoint-name" {
                throw ConfigFileError(line: entry.line, "unknown key \(quoted(entry.key)) in [identity]")
            }
            endpointName = identity.value("endpoint-name")
        }
        _ = try AgentConfiguration.accounts(in: file)
        bootstrap = file.sections("bootstrap").first.map { $0.entries.map { Setting($0.key, $0.value) } }
        for section in file.sections("server") {
            guard let name = section.name, let ssid = UInt16(name) else { continue }
            servers[ssid] = section.entries.map { Setting($0.key, $0.value) }
        }
    }

    /// The file's text.
    public func rendered() -> String {
        var text = "# Written by lwm2m-agent factory; no secrets here (secret-key names a sealed secret).\n"
        if let endpointName { text += "\n[identity]\nendpoint-name = \(endpointName)\n" }
        func section(_ header: String, _ settings: [Setting]) {
            text += "\n[\(header)]\n" + settings.map { "\($0.key) = \($0.value)\n" }.joined()
        }
        if let bootstrap { section("bootstrap", bootstrap) }
        for ssid in servers.keys.sorted() { section("server \(ssid)", servers[ssid]!) }
        return text
    }

    /// The value of `key` in `settings`.
    public static func value(_ key: String, in settings: [Setting]) -> String? {
        settings.first { $0.key == key }?.value
    }

    /// The prefix of `secret-key` values that name a TPM signing key instead of a sealed secret.
    public static let tpmKeyPrefix = "tpm-key:"
}
