import AgentCommon
import Board
import CoAP
import LwM2M

/// The daemon's configuration file, checked and typed. The format is documented in
/// docs/configuration.md; `init/lwm2m-agent.conf.example` is a commented example.
public struct AgentConfiguration: Sendable {
    /// Where the credentials of accounts live (`credential-store`).
    public enum CredentialStoreKind: String, Sendable {
        /// The TPM 2.0 (the default on a board).
        case tpm
        /// Process memory only, for development: secrets are lost at exit and the daemon
        /// never writes state that refers to them.
        case development
    }

    /// A bootstrap or factory server account.
    public struct Account: Sendable, Equatable {
        public var uri: String
        public var securityMode: SecurityMode
        /// PSK identity or certificate (file), not secret.
        public var identity: [UInt8] = []
        /// Name of the secret key in the credential store.
        public var secretKey: String?
        /// Server certificate or trust anchor (DER bytes from a file).
        public var serverPublicKey: [UInt8] = []
        public var clientHoldOffTime: Int64 = 0
        public var bootstrapAccountTimeout: Int64 = 0
        public var serverNameIndication: String?
        public var certificateUsage: UInt64?
        /// Files named by the configuration, read at start (`loadingFiles`): the secret key
        /// (development credential store only), the server certificate and the client
        /// certificate (DER).
        public var secretKeyFile: String?
        public var serverCertificateFile: String?
        public var clientCertificateFile: String?
    }

    /// A factory management server: its account plus Server-object settings.
    public struct Server: Sendable, Equatable {
        public var shortServerID: UInt16
        public var account: Account
        public var lifetime: Int64 = 86400
        public var binding = "U"
        public var defaultMinimumPeriod: Int64?
        public var defaultMaximumPeriod: Int64?
        public var notificationStoring = true
        public var priority: UInt64?
        public var initialDelay: UInt64?
        public var failureBlock: Bool?
        public var bootstrapOnFailure: Bool?
        public var retryCount: UInt64?
        public var retryTimer: UInt64?
        public var sequenceDelay: UInt64?
        public var sequenceRetryCount: UInt64?
    }

    public var endpointName: String
    public var stateDirectory: String
    public var logLevel: LogLevel
    public var credentialStore: CredentialStoreKind
    public var tcti: String
    public var bootstrapOnEveryStart: Bool
    public var bootstrap: Account?
    public var servers: [Server]
    public var ackTimeout: Duration
    /// CoAP MAX_RETRANSMIT (`max-retransmit`, default 4): a lossy link's retransmissions.
    public var maxRetransmit: Int
    public var dtlsTimeoutMinimum: Duration
    public var dtlsTimeoutMaximum: Duration
    public var bootstrapRetryInitial: Duration
    public var bootstrapRetryMaximum: Duration
    public var bootstrapSessionTimeout: Duration?
    /// Where to read `{serial}` from (a file), for the endpoint-name template.
    public var serialFile: String
    /// Where to read `{iccid}` from (a file a modem hook writes), for the endpoint-name template.
    public var iccidFile: String
    /// The board asked for (`board = NAME|PATH`); nil: chosen from the device tree or DMI, else
    /// the generic Linux board (docs/boards.md).
    public var board: BoardRequest?
    /// Where the board files are (`board-dir`).
    public var boardDirectory: String

    /// Reads the configuration from `text`; `readFile` loads files named by `*-file` keys.
    /// Where the factory file is (`factory-file`, default `<state-dir>/factory.conf`).
    public var factoryFile: String
    /// The endpoint name as written (literal or template), before expansion.
    public var endpointTemplate: String
    /// The `[firmware]` section (Firmware Update, object 5).
    public var firmware: FirmwareSettings
    /// Where the daemon answers `lwm2m-agent status` (`control-socket`, default
    /// `<state-dir>/control`); nil with `control-socket = none`.
    public var controlSocket: String?

    /// Reads the configuration from `text`. With `requireAccounts` false a file without any
    /// account is accepted (the factory file may bring them; call `checkAccounts()` after).
    public init(parsing text: String, environment: EndpointNameTemplate.Environment = .system,
                requireAccounts: Bool = true) throws(ConfigFileError) {
        let file = try ConfigFile(parsing: text)
        let known: Set<String> = ["agent", "bootstrap", "server", "firmware"]
        for section in file.sections where !known.contains(section.kind) {
            throw ConfigFileError(line: section.line, "unknown section [\(shortened(section.kind))]")
        }
        guard let agent = file.sections("agent").first else { throw ConfigFileError(line: 0, "missing [agent] section") }
        try Self.checkKeys(agent, ["endpoint-name", "state-dir", "log-level", "credential-store", "tpm-tcti",
                                   "bootstrap-on-every-start", "ack-timeout", "max-retransmit", "bootstrap-retry-initial",
                                   "bootstrap-retry-maximum", "bootstrap-session-timeout", "serial-file",
                                   "dtls-timeout-min", "dtls-timeout-max", "factory-file", "iccid-file",
                                   "board", "board-dir", "control-socket"])
        serialFile = agent.value("serial-file") ?? "/sys/firmware/devicetree/base/serial-number"
        iccidFile = agent.value("iccid-file") ?? "/run/lwm2m-agent/iccid"
        let template = agent.value("endpoint-name") ?? "urn:dev:{machine-id}"
        do {
            endpointName = try EndpointNameTemplate(template).expand(environment, serialFile: serialFile, iccidFile: iccidFile)
        } catch {
            throw ConfigFileError(line: agent.line(of: "endpoint-name"), "\(error)")
        }
        stateDirectory = agent.value("state-dir") ?? "/var/lib/lwm2m-agent"
        let levelName = agent.value("log-level") ?? "info"
        guard let level = LogLevel(name: levelName) else {
            throw ConfigFileError(line: agent.line(of: "log-level"), "log-level \(quoted(levelName)): expected error, warning, notice, info or debug")
        }
        logLevel = level
        let storeName = agent.value("credential-store") ?? "tpm"
        guard let store = CredentialStoreKind(rawValue: storeName) else {
            throw ConfigFileError(line: agent.line(of: "credential-store"), "credential-store \(quoted(storeName)): expected tpm or development")
        }
        credentialStore = store
        tcti = agent.value("tpm-tcti") ?? "device:/dev/tpmrm0"
        bootstrapOnEveryStart = try Self.bool(agent, "bootstrap-on-every-start") ?? false
        ackTimeout = try Self.seconds(agent, "ack-timeout") ?? .seconds(2)
        let retransmissions = try Self.integer(agent, "max-retransmit") ?? 4
        guard (0...20).contains(retransmissions) else {
            throw ConfigFileError(line: agent.line(of: "max-retransmit"), "max-retransmit \(retransmissions): expected 0 to 20")
        }
        maxRetransmit = Int(retransmissions)
        dtlsTimeoutMinimum = try Self.seconds(agent, "dtls-timeout-min") ?? .seconds(2)
        dtlsTimeoutMaximum = try Self.seconds(agent, "dtls-timeout-max") ?? .seconds(60)
        guard dtlsTimeoutMinimum > .zero, dtlsTimeoutMaximum >= dtlsTimeoutMinimum else {
            throw ConfigFileError(line: agent.line(of: "dtls-timeout-max"), "dtls-timeout-max must be at least dtls-timeout-min (> 0)")
        }
        bootstrapRetryInitial = try Self.seconds(agent, "bootstrap-retry-initial") ?? .seconds(10)
        bootstrapRetryMaximum = try Self.seconds(agent, "bootstrap-retry-maximum") ?? .seconds(3600)
        bootstrapSessionTimeout = try Self.seconds(agent, "bootstrap-session-timeout")

        factoryFile = agent.value("factory-file") ?? "\(stateDirectory)/factory.conf"
        board = nil
        if let value = agent.value("board") {
            do {
                board = try BoardRequest(parsing: value)
            } catch {
                throw ConfigFileError(line: agent.line(of: "board"), error.description)
            }
        }
        boardDirectory = agent.value("board-dir") ?? BoardCatalog.defaultDirectory
        guard boardDirectory.hasPrefix("/") else {
            throw ConfigFileError(line: agent.line(of: "board-dir"), "board-dir \(quoted(boardDirectory)): expected an absolute path")
        }
        endpointTemplate = template
        switch agent.value("control-socket") {
        case nil: controlSocket = "\(stateDirectory)/control"
        case "none"?: controlSocket = nil
        case let path?:
            guard path.hasPrefix("/"), !path.hasSuffix("/") else {
                throw ConfigFileError(line: agent.line(of: "control-socket"),
                                      "control-socket \(quoted(path)): expected an absolute path or none")
            }
            controlSocket = path
        }
        let firmwareSections = file.sections("firmware")
        if firmwareSections.count > 1 {
            throw ConfigFileError(line: firmwareSections[1].line, "only one [firmware] section is allowed")
        }
        firmware = try FirmwareSettings(section: firmwareSections.first)
        (bootstrap, servers) = try Self.accounts(in: file)
        if requireAccounts { try checkAccounts() }
    }

    /// Throws when there is neither a bootstrap account nor a factory server.
    public func checkAccounts() throws(ConfigFileError) {
        if bootstrap == nil && servers.isEmpty {
            throw ConfigFileError(line: 0, "no [bootstrap] and no [server N] section: the agent would have nowhere to go")
        }
    }

    /// Applies a factory file (docs/configuration.md, "Factory file"): its endpoint name
    /// replaces the agent file's, and its accounts, when it has any, replace the agent file's.
    public mutating func apply(_ factory: FactoryFile, environment: EndpointNameTemplate.Environment = .system) throws(ConfigFileError) {
        if let template = factory.endpointName {
            do {
                endpointName = try EndpointNameTemplate(template).expand(environment, serialFile: serialFile, iccidFile: iccidFile)
                endpointTemplate = template
            } catch {
                throw ConfigFileError(line: 0, "[identity] endpoint-name: \(error)")
            }
        }
        guard factory.bootstrap != nil || !factory.servers.isEmpty else { return }
        (bootstrap, servers) = try Self.accounts(in: try ConfigFile(parsing: factory.rendered()))
    }

    /// The `[bootstrap]` and `[server N]` sections of `file`, checked.
    static func accounts(in file: ConfigFile) throws(ConfigFileError) -> (Account?, [Server]) {
        let bootstraps = file.sections("bootstrap")
        if bootstraps.count > 1 { throw ConfigFileError(line: bootstraps[1].line, "only one [bootstrap] section is allowed") }
        let bootstrap = try bootstraps.first.map { section throws(ConfigFileError) in
            try Self.checkKeys(section, Self.accountKeys + ["client-hold-off", "account-timeout"])
            var account = try Self.account(section)
            account.clientHoldOffTime = try Self.integer(section, "client-hold-off") ?? 0
            account.bootstrapAccountTimeout = try Self.integer(section, "account-timeout") ?? 0
            return account
        }
        var servers: [Server] = []
        for section in file.sections("server") {
            guard let name = section.name, let ssid = UInt16(name), ssid > 0, ssid < 65535 else {
                throw ConfigFileError(line: section.line, "[server N] needs a Short Server ID N in 1…65534")
            }
            guard !servers.contains(where: { $0.shortServerID == ssid }) else {
                throw ConfigFileError(line: section.line, "server \(ssid) configured twice")
            }
            try Self.checkKeys(section, Self.accountKeys + [
                "lifetime", "binding", "default-pmin", "default-pmax", "notification-storing", "priority",
                "initial-delay", "failure-block", "bootstrap-on-failure", "retry-count", "retry-timer",
                "sequence-delay", "sequence-retry-count",
            ])
            var server = Server(shortServerID: ssid, account: try Self.account(section))
            server.lifetime = try Self.integer(section, "lifetime") ?? 86400
            guard server.lifetime > 0 else { throw ConfigFileError(line: section.line(of: "lifetime"), "lifetime must be positive") }
            server.binding = section.value("binding") ?? "U"
            server.defaultMinimumPeriod = try Self.integer(section, "default-pmin")
            server.defaultMaximumPeriod = try Self.integer(section, "default-pmax")
            server.notificationStoring = try Self.bool(section, "notification-storing") ?? true
            server.priority = try Self.unsigned(section, "priority")
            server.initialDelay = try Self.unsigned(section, "initial-delay")
            server.failureBlock = try Self.bool(section, "failure-block")
            server.bootstrapOnFailure = try Self.bool(section, "bootstrap-on-failure")
            server.retryCount = try Self.unsigned(section, "retry-count")
            server.retryTimer = try Self.unsigned(section, "retry-timer")
            server.sequenceDelay = try Self.unsigned(section, "sequence-delay")
            server.sequenceRetryCount = try Self.unsigned(section, "sequence-retry-count")
            servers.append(server)
        }
        return (bootstrap, servers)
    }

    static let accountKeys = ["uri", "security-mode", "psk-identity", "psk-identity-hex", "secret-key", "secret-key-file",
                              "server-certificate-file", "client-certificate-file", "server-public-key-file",
                              "public-key-file", "sni", "certificate-usage"]

    // MARK: - Helpers

    private static func checkKeys(_ section: ConfigFile.Section, _ allowed: [String]) throws(ConfigFileError) {
        for entry in section.entries where !allowed.contains(entry.key) {
            throw ConfigFileError(line: entry.line, "unknown key \(quoted(entry.key)) in [\(section.kind)]")
        }
    }

    private static func account(_ section: ConfigFile.Section) throws(ConfigFileError) -> Account {
        guard let uri = section.value("uri") else { throw ConfigFileError(line: section.line, "[\(section.kind)] needs a uri") }
        do {
            _ = try CoAPURI(uri)
        } catch {
            throw ConfigFileError(line: section.line(of: "uri"), "uri \(quoted(uri)): \(error)")
        }
        let modeName = section.value("security-mode") ?? (uri.hasPrefix("coaps") ? "psk" : "nosec")
        let mode: SecurityMode
        switch modeName {
        case "nosec": mode = .noSecurity
        case "psk": mode = .preSharedKey
        case "certificate", "x509": mode = .certificate
        case "rpk": mode = .rawPublicKey
        default:
            throw ConfigFileError(line: section.line(of: "security-mode"),
                                  "security-mode \(quoted(modeName)): expected nosec, psk, certificate or rpk")
        }
        var account = Account(uri: uri, securityMode: mode)
        if let identity = section.value("psk-identity") { account.identity = Array(identity.utf8) }
        if let hex = section.value("psk-identity-hex") {
            guard let bytes = Self.hexBytes(hex) else {
                throw ConfigFileError(line: section.line(of: "psk-identity-hex"), "psk-identity-hex is not hexadecimal")
            }
            account.identity = bytes
        }
        account.secretKey = section.value("secret-key")
        account.secretKeyFile = section.value("secret-key-file")
        // RPK (security-mode = rpk): the server's and our SubjectPublicKeyInfo (/0/x/4, /0/x/3),
        // read like the certificates; our key may be left out (it is the secret key's).
        account.serverCertificateFile = section.value("server-certificate-file") ?? section.value("server-public-key-file")
        account.clientCertificateFile = section.value("client-certificate-file") ?? section.value("public-key-file")
        if account.secretKey != nil && account.secretKeyFile != nil {
            throw ConfigFileError(line: section.line(of: "secret-key-file"), "set secret-key or secret-key-file, not both")
        }
        if let usage = try unsigned(section, "certificate-usage"), usage > 3 {
            throw ConfigFileError(line: section.line(of: "certificate-usage"), "certificate-usage must be 0, 1, 2 or 3")
        }
        account.serverNameIndication = section.value("sni")
        account.certificateUsage = try unsigned(section, "certificate-usage")
        return account
    }

    private static func integer(_ section: ConfigFile.Section, _ key: String) throws(ConfigFileError) -> Int64? {
        guard let text = section.value(key) else { return nil }
        guard let value = Int64(text) else { throw ConfigFileError(line: section.line(of: key), "\(key) \(quoted(text)) is not an integer") }
        return value
    }

    private static func unsigned(_ section: ConfigFile.Section, _ key: String) throws(ConfigFileError) -> UInt64? {
        guard let text = section.value(key) else { return nil }
        guard let value = UInt64(text) else {
            throw ConfigFileError(line: section.line(of: key), "\(key) \(quoted(text)) is not a non-negative integer")
        }
        return value
    }

    private static func bool(_ section: ConfigFile.Section, _ key: String) throws(ConfigFileError) -> Bool? {
        switch section.value(key) {
        case nil: return nil
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        case let text?: throw ConfigFileError(line: section.line(of: key), "\(key) \(quoted(text)): expected true or false")
        }
    }

    private static func seconds(_ section: ConfigFile.Section, _ key: String) throws(ConfigFileError) -> Duration? {
        guard let text = section.value(key) else { return nil }
        guard let value = Double(text), value >= 0, value < 1e9 else {
            throw ConfigFileError(line: section.line(of: key), "\(key) \(quoted(text)) is not a number of seconds")
        }
        return .milliseconds(Int64((value * 1000).rounded()))
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = HexDigit.value(digits[index]), let low = HexDigit.value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

}
