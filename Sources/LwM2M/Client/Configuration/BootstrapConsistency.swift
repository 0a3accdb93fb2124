import CoAP

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
    /// The session overwrote the bootstrap-server account with a management account and wrote
    /// no other bootstrap-server account: the client could never bootstrap again.
    case bootstrapAccountLost
    /// A mandatory resource is missing or invalid.
    case missingResource(LwM2MPath, String)
    /// A `coaps` URI with Security Mode NoSec (no security information).
    case secureURIWithoutSecurity(instance: UInt16)
    /// A `coap` URI with a secure Security Mode.
    case plainURIWithSecurity(instance: UInt16)
    /// The URI scheme is not one the client speaks.
    case unsupportedScheme(instance: UInt16, String)
    /// The URI can never be connected to (no host, bad port, userinfo, fragment, …).
    case unusableURI(instance: UInt16, uri: String, reason: String)
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
        case .bootstrapAccountLost:
            "no bootstrap-server account left: the bootstrap-server account was overwritten with a management account"
        case .missingResource(let path, let what):
            "\(path) \(what)"
        case .secureURIWithoutSecurity(let instance):
            "/0/\(instance): coaps URI but Security Mode NoSec (no security information)"
        case .plainURIWithSecurity(let instance):
            "/0/\(instance): coap URI but security information provided"
        case .unsupportedScheme(let instance, let uri):
            "/0/\(instance): unsupported server URI \"\(Self.printable(uri))\""
        case .unusableURI(let instance, let uri, let reason):
            "/0/\(instance): server URI \"\(Self.printable(uri))\" \(reason)"
        case .bindingMismatch(let ssid, let binding, let uri):
            "server \(ssid): URI \"\(Self.printable(uri))\" needs UDP but Binding is \"\(Self.printable(binding))\""
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

    /// `text` with control characters, quotes and backslashes escaped (`\n`, `\u{1B}`): a
    /// server-written value goes into the 4.06 diagnostic and the log line as one line.
    static func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"", "\\": out += "\\\(scalar)"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
                || scalar.value == 0x2028 || scalar.value == 0x2029:
                out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// The Bootstrap-Finish consistency check over the Security (0) and Server (1) objects.
public struct BootstrapConsistencyCheck: Sendable {
    /// The security modes this build can use (NoSec always; PSK and X.509 with DTLS).
    public var supportedModes: Set<SecurityMode>

    public init(supportedModes: Set<SecurityMode> = [.noSecurity, .preSharedKey, .certificate]) {
        self.supportedModes = supportedModes
    }

    /// Throws the first inconsistency found, in a stable order. `requiresBootstrapAccount`: the
    /// end of a bootstrap session, which must leave one bootstrap-server account.
    public func check(security: ObjectSnapshot, server: ObjectSnapshot, requiresBootstrapAccount: Bool = false)
        throws(BootstrapInconsistency)
    {
        let accounts = security.instances.keys.sorted().map { SecurityAccount(instance: $0, snapshot: security) }
        let bootstrapAccounts = accounts.filter(\.isBootstrap).count
        if bootstrapAccounts > 1 { throw .multipleBootstrapAccounts }
        if requiresBootstrapAccount, bootstrapAccounts == 0, !accounts.isEmpty { throw .bootstrapAccountLost }
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
            if let lifetime = server.instances[instance]?[1]?.integerValue,
               !ServerObjectRules.lifetimeRange.contains(lifetime) {
                throw .missingResource(LwM2MPath(1, instance, 1), lifetime <= 0 ? "(Lifetime) must be positive"
                    : "(Lifetime) \(lifetime) exceeds \(ServerObjectRules.lifetimeRange.upperBound) s")
            }
            if case .single(.string(let binding))? = server.instances[instance]?[7],
               binding.isEmpty || !binding.allSatisfy(ServerObjectRules.bindingLetters.contains) {
                throw .missingResource(LwM2MPath(1, instance, 7),
                                       "(Binding) \"\(BootstrapInconsistency.printable(binding))\" is not made of the letters U, T, S, N, Q")
            }
            let account = managementAccounts.first { $0.shortServerID == ssid }!
            if let transport = Self.binding(forScheme: account.uri), !settings.binding.contains(transport) {
                throw .bindingMismatch(shortServerID: ssid, binding: settings.binding, uri: account.uri)
            }
        }
        // A Security instance without a Server instance that carries security (coaps, PSK or
        // X.509) is the account of a download server (LwM2M 1.1: the credentials of a coaps
        // Package URI, DownloadServerAccount); it does not count as a server account. A NoSec
        // one is the other half of an account that is missing.
        let hasManagementAccount = !securitySSIDs.isDisjoint(with: serverSSIDs)
        for account in managementAccounts.sorted(by: { $0.shortServerID! < $1.shortServerID! })
        where !serverSSIDs.contains(account.shortServerID!) {
            guard account.mode != .noSecurity else {
                throw .unmatchedShortServerID(account.shortServerID!, "Security instance has no Server instance")
            }
            guard hasManagementAccount else {
                throw accounts.contains(where: \.isBootstrap) ? .onlyBootstrapAccount : .noServerAccount
            }
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
        if scheme == "coap" || scheme == "coaps", let reason = Self.unusable(account.uri) {
            throw .unusableURI(instance: instance, uri: account.uri, reason: reason)
        }
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
            guard supportedModes.contains(.rawPublicKey) else { break }  // refused below, with the reason
            if account.identity.isEmpty {
                throw .inconsistentCredentials(instance: instance, "Security Mode RPK without our public key (/0/\(instance)/3)")
            }
            if let problem = RawPublicKeyShape.problem(account.identity) {
                throw .inconsistentCredentials(instance: instance, "Security Mode RPK: our public key (/0/\(instance)/3) \(problem)")
            }
            if account.secretKey == nil {
                throw .inconsistentCredentials(instance: instance, "Security Mode RPK without a private key (/0/\(instance)/5)")
            }
            if account.serverPublicKey.isEmpty {
                throw .inconsistentCredentials(instance: instance, "Security Mode RPK without the server's public key (/0/\(instance)/4)")
            }
            if let problem = RawPublicKeyShape.problem(account.serverPublicKey) {
                throw .inconsistentCredentials(instance: instance, "Security Mode RPK: the server's public key (/0/\(instance)/4) \(problem)")
            }
        }
        guard supportedModes.contains(mode) else {
            let why = mode == .rawPublicKey
                ? "Security Mode RPK is not supported by this build (raw public keys need the GnuTLS backend)"
                : "Security Mode \(mode) is not supported by this build"
            throw .unsupportedSecurityMode(instance: instance, why)
        }
    }

    /// Why a `coap`/`coaps` server URI can never be connected to, or nil when it can: it must
    /// parse as a CoAP URI (RFC 7252 §6.4: host, port 1–65535, no fragment) with no userinfo,
    /// no query, and a host that is a DNS name or IPv4 address (letters, digits, `-`, `.`,
    /// `_`, `~`) or a bracketed IPv6 literal.
    static func unusable(_ uri: String) -> String? {
        let parsed: CoAPURI
        do throws(CoAPURIError) {
            parsed = try CoAPURI(uri)
        } catch {
            switch error {
            case .fragmentNotAllowed: return "has a fragment"
            case .invalidPort(let port): return "has an invalid port \"\(BootstrapInconsistency.printable(port))\" (1–65535)"
            case .invalidHost: return "has no valid host"
            case .invalidPercentEncoding: return "has an invalid percent-encoding"
            default: return "is not a CoAP URI"
            }
        }
        let afterScheme = uri[uri.index(uri.firstIndex(of: ":")!, offsetBy: 3)...]
        let authority = afterScheme.prefix { $0 != "/" && $0 != "?" }
        if authority.contains("@" as Character) { return "has userinfo (user@host), which CoAP does not use" }
        if !parsed.queryItems.isEmpty || uri.contains("?" as Character) { return "has a query" }
        if authority.hasPrefix("[") {
            let literal = parsed.host
            let address = literal.split(separator: "%", maxSplits: 1).first.map(String.init) ?? ""
            guard !address.isEmpty, address.contains(":"),
                  address.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                return "has an invalid IPv6 literal"
            }
        } else {
            let host = authority.prefix { $0 != ":" }
            guard !host.isEmpty, host.unicodeScalars.allSatisfy({ scalar in
                scalar.isASCII && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
                    || ("0"..."9").contains(scalar) || "-._~".unicodeScalars.contains(scalar))
            }) else {
                return "has a host that is not a DNS name or IP address"
            }
        }
        return nil
    }

    /// The URI scheme, lower-cased ("" when there is none).
    static func scheme(of uri: String) -> String {
        guard let colon = uri.firstIndex(of: ":") else { return "" }
        return uri[..<colon].lowercased()
    }

    /// The Binding letter a server URI's scheme needs ("U" for CoAP over UDP).
    static func binding(forScheme uri: String) -> Character? {
        switch scheme(of: uri) {
        case "coap", "coaps": "U"
        case "coap+tcp", "coaps+tcp": "T"
        default: nil
        }
    }
}
