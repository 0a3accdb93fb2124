import CoAP

/// Which Security-object account (object 0) holds the DTLS credentials of a `coaps://`
/// download (a Firmware Update Package URI): the rule of docs/firmware-update.md, "Credentials
/// of a coaps download".
///
/// The account is a Security instance that is **not** a bootstrap-server account, whose LwM2M
/// Server URI (/0/x/0) is a `coaps` URI naming the same service as the download: the same host
/// (compared without regard to case; IPv6 literals as written, without brackets) and the same
/// port (5684 when a URI names none). Its Security Mode must be PSK or X.509. Paths and queries
/// do not matter. When several instances match, the lowest instance ID wins.
///
/// There is deliberately no fallback to another account (not the account of the server that
/// wrote the Package URI, not an account of the same host on another port): a PSK handshake
/// with a host that does not hold the key gives that host the identity and material for an
/// offline guess of the key, and an X.509 handshake makes the device's private key sign for a
/// host it was never meant for, verified against a trust anchor meant for another server.
/// A download server gets credentials of its own from the bootstrap server: a Security
/// instance with its URI (LwM2M 1.1 allows Security instances without a Server instance).
public enum DownloadServerAccount {
    /// Why no account can be used for a download URI.
    public enum Failure: Error, Hashable, Sendable, CustomStringConvertible {
        /// No non-bootstrap Security instance has a `coaps` URI for this host and port.
        case noMatchingAccount(host: String, port: UInt16)
        /// The matching instance's Security Mode is not one a DTLS download can use.
        case unusableMode(instance: UInt16, String)

        public var description: String {
            switch self {
            case .noMatchingAccount(let host, let port):
                let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
                return "no Security instance (/0) has the Server URI coaps://\(authority) (a bootstrap server writes one for a download server)"
            case .unusableMode(let instance, let mode):
                return "Security instance /0/\(instance) matches, but its Security Mode \(mode) cannot secure a download (PSK or X.509)"
            }
        }
    }

    /// Whether Security account URI `accountURI` names the same DTLS service as `uri`: both
    /// `coaps`, the same host (case-insensitive), the same port (5684 by default).
    public static func matches(_ accountURI: String, _ uri: CoAPURI) -> Bool {
        guard uri.scheme == .coaps, let account = try? CoAPURI(accountURI), account.scheme == .coaps else { return false }
        return account.port == uri.port && account.host.lowercased() == uri.host.lowercased()
    }

    /// The account whose credentials a download of `uri` uses, from a snapshot of the Security
    /// object; see the type's description for the rule.
    public static func account(for uri: CoAPURI, in security: ObjectSnapshot) throws(Failure) -> SecurityAccount {
        let candidates = security.instances.keys.sorted()
            .map { SecurityAccount(instance: $0, snapshot: security) }
            .filter { !$0.isBootstrap && matches($0.uri, uri) }
        guard let account = candidates.first else { throw .noMatchingAccount(host: uri.host, port: uri.port) }
        guard account.mode == .preSharedKey || account.mode == .certificate else {
            throw .unusableMode(instance: account.instance, account.mode.map { "\($0)" } ?? "\(account.rawMode ?? -1)")
        }
        return account
    }
}
