import Credentials

/// How the server's certificate is checked, as LwM2M Certificate Usage (/0/x/15) says, with
/// /0/x/4 ("Server Public Key") as the certificate it refers to.
///
/// The four values follow RFC 6698 (DANE) adapted to a device that has no system trust store of
/// its own (extra anchors go in ``DTLSConfiguration/additionalTrustAnchors``):
/// - `caConstraint` (0): the chain must validate to a trusted anchor and contain `certificate`
///   as one of its CA certificates; `certificate` is itself a trusted anchor.
/// - `serviceCertificateConstraint` (1): the server's end-entity certificate must equal
///   `certificate` byte for byte **and** its chain must validate against the additional trust
///   anchors (or, when there are none, against `certificate` itself: a self-signed service
///   certificate).
/// - `trustAnchorAssertion` (2): `certificate` is the only trust anchor; the chain must
///   validate to it.
/// - `domainIssuedCertificate` (3, the LwM2M default): the server's end-entity certificate must
///   equal `certificate` byte for byte; nothing else is checked (no chain, no validity dates,
///   no host name), the pin is the whole trust decision.
///
/// Host names are checked for usages 0, 1 and 2 (see ``DTLSConfiguration/serverName``).
public enum CertificateUsage: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case caConstraint = 0
    case serviceCertificateConstraint = 1
    case trustAnchorAssertion = 2
    case domainIssuedCertificate = 3

    /// Whether the server's name is compared with its certificate for this usage.
    public var checksHostName: Bool { self != .domainIssuedCertificate }

    public var description: String {
        switch self {
        case .caConstraint: "CA constraint"
        case .serviceCertificateConstraint: "service certificate constraint"
        case .trustAnchorAssertion: "trust anchor assertion"
        case .domainIssuedCertificate: "domain-issued certificate"
        }
    }
}

/// The server certificate rule: a Certificate Usage and the DER certificate from /0/x/4.
public struct ServerTrust: Sendable {
    /// How `certificate` is used (/0/x/15).
    public var usage: CertificateUsage
    /// The DER certificate of /0/x/4: a CA or the server's own certificate, depending on `usage`.
    public var certificate: [UInt8]

    /// A rule for /0/x/15 `usage` (LwM2M's default: 3) and the DER certificate of /0/x/4.
    public init(usage: CertificateUsage = .domainIssuedCertificate, certificate: [UInt8]) {
        self.usage = usage
        self.certificate = certificate
    }
}

/// Everything a `DTLSClientSession` needs to know about one server.
public struct DTLSConfiguration {
    /// How the client authenticates itself.
    public enum Authentication {
        /// Pre-shared key: identity (/0/x/3) and key (/0/x/5, from the credential store).
        case psk(identity: [UInt8], key: SecretBytes)
        /// X.509: the client certificate chain (DER, end-entity first, /0/x/3) and its key.
        case certificate(chain: [[UInt8]], key: Signer)
        /// Raw public keys (RFC 7250, LwM2M Security Mode 1): our key pair (its public key is
        /// /0/x/3 as a SubjectPublicKeyInfo) and the server's DER SubjectPublicKeyInfo (/0/x/4),
        /// which the server must present exactly. Runs on the GnuTLS backend (`DTLSGnuTLS`);
        /// ``DTLSClientSession`` (mbedTLS) refuses it.
        case rawPublicKey(key: Signer, serverPublicKey: [UInt8])
    }

    /// PSK, certificate or raw-public-key credentials.
    public var authentication: Authentication
    /// Required for `.certificate` authentication; ignored for PSK.
    public var serverTrust: ServerTrust?
    /// Extra trust anchors (DER) for certificate usages 0 and 1, e.g. a factory CA bundle.
    public var additionalTrustAnchors: [[UInt8]] = []
    /// The host of the server URI. Names the server in SNI and is compared with the certificate,
    /// unless ``serverNameIndication`` overrides it. An IP literal is never sent in SNI; for an
    /// IP host the certificate name check is skipped (mbedTLS 2.28 does not parse IP-address
    /// subjectAltNames), so trust rests on the chain or pin alone: see docs/dtls.md.
    public var serverName: String?
    /// LwM2M /0/x/14: the name sent in SNI and checked against the certificate instead of
    /// ``serverName``.
    public var serverNameIndication: String?
    /// IANA cipher-suite numbers in order of preference (LwM2M /0/x/16); `nil` for the defaults
    /// of the authentication mode (``DTLSCipherSuite/defaultPSK`` or
    /// ``DTLSCipherSuite/defaultCertificate``). Numbers mbedTLS does not know are dropped.
    public var cipherSuites: [UInt16]?
    /// First handshake retransmission timeout; doubles on every retransmission.
    public var handshakeTimeoutMin: Duration = .seconds(2)
    /// Longest retransmission timeout: the handshake fails once a flight goes unanswered for
    /// this long. The defaults (2 s → 60 s, about two minutes in all) suit cellular links.
    public var handshakeTimeoutMax: Duration = .seconds(60)
    /// The largest datagram to send (path MTU less IP/UDP headers): handshake flights larger
    /// than this are fragmented, application data larger than a record allows is refused.
    /// `nil` leaves mbedTLS's default (no limit below 16 KiB records).
    public var maximumDatagramSize: Int? = 1232
    /// How many application datagrams `send` queues while the handshake is running.
    public var maxQueuedDatagrams = 16

    /// A configuration with default suites, timers (2 s → 60 s) and datagram size (1232).
    public init(authentication: Authentication, serverTrust: ServerTrust? = nil, serverName: String? = nil) {
        self.authentication = authentication
        self.serverTrust = serverTrust
        self.serverName = serverName
    }

    /// The name the server's certificate must carry (SNI override first, then the URI host).
    public var expectedServerName: String? { serverNameIndication ?? serverName }

    /// The name to send in SNI: the expected name unless it is an IP literal.
    public var sniHostName: String? {
        guard let name = expectedServerName, !name.isEmpty, !HostName.isIPLiteral(name) else { return nil }
        return name
    }
}
