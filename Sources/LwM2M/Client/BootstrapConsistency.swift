/// Why the configuration a bootstrap server wrote cannot be used (answered with 4.06 Not
/// Acceptable at Bootstrap-Finish, with `description` as the diagnostic payload). Covers IOWA's
/// six reasons (seed 001) plus the checks of protocol pitfall 2.
public enum BootstrapInconsistency: Error, Hashable, Sendable, CustomStringConvertible {
    /// No Security instance describes a management server.
    case noServerAccount
    /// Only a bootstrap-server account was provided.
    case onlyBootstrapAccount
    /// More than one Security instance claims to be the bootstrap server.
    case multipleBootstrapAccounts
    /// A mandatory resource is missing or invalid.
    case missingResource(LwM2MPath, String)
    /// A `coaps` URI with Security Mode NoSec (no security information).
    case secureURIWithoutSecurity(instance: UInt16)
    /// A `coap` URI with a secure Security Mode.
    case plainURIWithSecurity(instance: UInt16)
    /// The URI scheme is not one the client speaks.
    case unsupportedScheme(instance: UInt16, String)
    /// The URI's transport is not in the server's Binding (/1/x/7).
    case bindingMismatch(shortServerID: UInt16, binding: String, uri: String)
    /// Security Mode does not fit the identity and keys provided.
    case inconsistentCredentials(instance: UInt16, String)
    /// The Security Mode is one this build cannot use.
    case unsupportedSecurityMode(instance: UInt16, String)
    /// A Security instance has no Server instance with its Short Server ID, or the reverse.
    case unmatchedShortServerID(UInt16, String)
    /// Two accounts share a Short Server ID.
    case duplicateShortServerID(UInt16)

    public var description: String {
        switch self {
        case .noServerAccount:
            "no LwM2M server account provided"
        case .onlyBootstrapAccount:
            "only a bootstrap-server account provided, no LwM2M server account"
        case .multipleBootstrapAccounts:
            "more than one bootstrap-server account"
        case .missingResource(let path, let what):
            "\(path) \(what)"
        case .secureURIWithoutSecurity(let instance):
            "/0/\(instance): coaps URI but Security Mode NoSec (no security information)"
        case .plainURIWithSecurity(let instance):
            "/0/\(instance): coap URI but security information provided"
        case .unsupportedScheme(let instance, let uri):
            "/0/\(instance): unsupported server URI \"\(uri)\""
        case .bindingMismatch(let ssid, let binding, let uri):
            "server \(ssid): URI \"\(uri)\" needs UDP but Binding is \"\(binding)\""
        case .inconsistentCredentials(let instance, let why):
            "/0/\(instance): \(why)"
        case .unsupportedSecurityMode(let instance, let why):
            "/0/\(instance): \(why)"
        case .unmatchedShortServerID(let ssid, let why):
            "Short Server ID \(ssid): \(why)"
        case .duplicateShortServerID(let ssid):
            "Short Server ID \(ssid) used by more than one account"
        }
    }
}

/// The Bootstrap-Finish consistency check over the Security (0) and Server (1) objects.
public struct BootstrapConsistencyCheck: Sendable {
    /// The security modes this build can use (NoSec always; PSK and X.509 with DTLS).
    public var supportedModes: Set<SecurityMode>

    public init(supportedModes: Set<SecurityMode> = [.noSecurity, .preSharedKey, .certificate]) {
        self.supportedModes = supportedModes
    }

    /// Throws the first inconsistency found, in a stable order.
    public func check(security: ObjectSnapshot, server: ObjectSnapshot) throws(BootstrapInconsistency) {
        let accounts = security.instances.keys.sorted().map { SecurityAccount(instance: $0, snapshot: security) }
        if accounts.filter(\.isBootstrap).count > 1 { throw .multipleBootstrapAccounts }
        let managementAccounts = accounts.filter { !$0.isBootstrap }
        if managementAccounts.isEmpty {
            throw accounts.isEmpty ? .noServerAccount : .onlyBootstrapAccount
        }
        for account in accounts { try checkSecurity(account) }

        var securitySSIDs: Set<UInt16> = []
        for account in managementAccounts {
            guard let ssid = account.shortServerID, ssid != 0, ssid != 65535 else {
                throw .missingResource(LwM2MPath(0, account.instance, 10), "(Short Server ID) is missing or out of range")
            }
            guard securitySSIDs.insert(ssid).inserted else { throw .duplicateShortServerID(ssid) }
        }
        var serverSSIDs: Set<UInt16> = []
        for instance in server.instances.keys.sorted() {
            guard let settings = ServerSettings(instance: instance, snapshot: server) else {
                throw .missingResource(LwM2MPath(1, instance, 0), "(Short Server ID) is missing or out of range")
            }
            let ssid = settings.shortServerID
            guard serverSSIDs.insert(ssid).inserted else { throw .duplicateShortServerID(ssid) }
            guard securitySSIDs.contains(ssid) else {
                throw .unmatchedShortServerID(ssid, "Server instance /1/\(instance) has no Security instance")
            }
            for (resource, name) in [(UInt16(1), "Lifetime"), (7, "Binding")]
            where server.instances[instance]?[resource] == nil {
                throw .missingResource(LwM2MPath(1, instance, resource), "(\(name)) is missing")
            }
            if settings.lifetime <= 0 {
                throw .missingResource(LwM2MPath(1, instance, 1), "(Lifetime) must be positive")
            }
            let account = managementAccounts.first { $0.shortServerID == ssid }!
            if let transport = Self.binding(forScheme: account.uri), !settings.binding.contains(transport) {
                throw .bindingMismatch(shortServerID: ssid, binding: settings.binding, uri: account.uri)
            }
        }
        for ssid in securitySSIDs.sorted() where !serverSSIDs.contains(ssid) {
            throw .unmatchedShortServerID(ssid, "Security instance has no Server instance")
        }
    }

    /// The checks on one Security instance: URI, mode, and mode against URI and credentials.
    private func checkSecurity(_ account: SecurityAccount) throws(BootstrapInconsistency) {
        let instance = account.instance
        guard !account.uri.isEmpty else { throw .missingResource(LwM2MPath(0, instance, 0), "(Server URI) is missing") }
        guard let rawMode = account.rawMode else {
            throw .missingResource(LwM2MPath(0, instance, 2), "(Security Mode) is missing")
        }
        guard let mode = account.mode else {
            throw .unsupportedSecurityMode(instance: instance, "unknown Security Mode \(rawMode)")
        }
        let scheme = Self.scheme(of: account.uri)
        switch scheme {
        case "coap":
            guard mode == .noSecurity else { throw .plainURIWithSecurity(instance: instance) }
        case "coaps":
            guard mode != .noSecurity else { throw .secureURIWithoutSecurity(instance: instance) }
        default:
            throw .unsupportedScheme(instance: instance, account.uri)
        }
        switch mode {
        case .noSecurity:
            if !account.identity.isEmpty || account.secretKey != nil {
                throw .inconsistentCredentials(instance: instance, "Security Mode NoSec but an identity or key is set")
            }
        case .preSharedKey:
            if account.identity.isEmpty {
                throw .inconsistentCredentials(instance: instance, "Security Mode PSK without a PSK identity (/0/\(instance)/3)")
            }
            if account.secretKey == nil {
                throw .inconsistentCredentials(instance: instance, "Security Mode PSK without a key (/0/\(instance)/5)")
            }
        case .certificate, .certificateWithEST:
            if account.identity.isEmpty {
                throw .inconsistentCredentials(instance: instance, "Security Mode X.509 without a client certificate (/0/\(instance)/3)")
            }
            if account.secretKey == nil {
                throw .inconsistentCredentials(instance: instance, "Security Mode X.509 without a private key (/0/\(instance)/5)")
            }
            if account.serverPublicKey.isEmpty {
                throw .inconsistentCredentials(instance: instance, "Security Mode X.509 without a server certificate or trust anchor (/0/\(instance)/4)")
            }
        case .rawPublicKey:
            break
        }
        guard supportedModes.contains(mode) else {
            let why = mode == .rawPublicKey
                ? "Security Mode RPK is not supported (the DTLS library has no RFC 7250 raw public keys)"
                : "Security Mode \(mode) is not supported by this build"
            throw .unsupportedSecurityMode(instance: instance, why)
        }
    }

    /// The URI scheme, lower-cased ("" when there is none).
    static func scheme(of uri: String) -> String {
        guard let colon = uri.firstIndex(of: ":") else { return "" }
        return uri[..<colon].lowercased()
    }

    /// The Binding letter a server URI's scheme needs ("U" for CoAP over UDP).
    static func binding(forScheme uri: String) -> String? {
        switch scheme(of: uri) {
        case "coap", "coaps": "U"
        case "coap+tcp", "coaps+tcp": "T"
        default: nil
        }
    }
}
