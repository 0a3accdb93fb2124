import CoAP
import DTLS
import Transport

/// Why a firmware download (CoAP or HTTP) stopped. Each case maps to one Update Result of the
/// Firmware object (5/0/5): see ``updateResultCode``.
public enum FirmwareDownloadError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The URI cannot be parsed, or names no resource.
    case invalidURI(String)
    /// A scheme this build cannot download from.
    case unsupportedScheme(String)
    /// The host name did not resolve.
    case nameResolution(String)
    /// No connection (TCP refused or timed out; for CoAP no answer to the first block).
    case connect(String)
    /// The connection went away mid-download (CoAP: the engine gave up retransmitting; HTTP:
    /// reset, timed out or closed early). Resumable.
    case connectionLost(String)
    /// The server's certificate failed verification (HTTPS), or the DTLS handshake failed.
    case tlsVerification(String)
    /// Another TLS or DTLS failure.
    case tls(String)
    /// No credentials for a `coaps://` server: the agent has no Security instance for that host
    /// and port (docs/firmware-update.md, "Credentials of a coaps download").
    case noCredentials(String)
    /// The server answered with an error status (HTTP status, CoAP response code "4.04" …).
    case status(String)
    /// The resource changed during the download and kept changing (ETag).
    case representationChanged
    /// The server broke the protocol (malformed blocks, a wrong Content-Range …).
    case protocolViolation(String)
    /// The sink refused the bytes (storage, size limit, I/O).
    case sink(DownloadSinkError)
    /// The download was cancelled.
    case cancelled
    /// The download took longer than its overall limit.
    case timeout

    /// The Firmware object's Update Result (OMA 5.xml): 2 not enough flash, 3 out of RAM (not
    /// produced here), 4 connection lost, 6 unsupported package type, 7 invalid URI (also: no
    /// credentials for a coaps host, whose scheme is supported), 9 unsupported protocol.
    public var updateResultCode: Int {
        switch self {
        case .invalidURI, .nameResolution, .status, .noCredentials: 7
        case .unsupportedScheme: 9
        case .sink(.insufficientStorage), .sink(.tooLarge): 2
        case .connect, .connectionLost, .tlsVerification, .tls, .representationChanged, .protocolViolation,
             .sink(.io), .timeout: 4
        case .cancelled: 10
        }
    }

    /// Whether resuming later may succeed (the bytes stored are kept).
    public var isResumable: Bool {
        switch self {
        case .connect, .connectionLost, .timeout, .nameResolution: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .invalidURI(let why): "invalid URI: \(why)"
        case .unsupportedScheme(let scheme): "unsupported scheme \(scheme)"
        case .nameResolution(let why): "name resolution failed: \(why)"
        case .connect(let why): "cannot connect: \(why)"
        case .connectionLost(let why): "connection lost: \(why)"
        case .tlsVerification(let why): "TLS verification failed: \(why)"
        case .tls(let why): "TLS failure: \(why)"
        case .noCredentials(let why): "no DTLS credentials: \(why)"
        case .status(let status): "server answered \(status)"
        case .representationChanged: "the resource changed during the download (ETag changed)"
        case .protocolViolation(let why): "protocol violation: \(why)"
        case .sink(let error): "cannot store the image: \(error)"
        case .cancelled: "cancelled"
        case .timeout: "download timed out"
        }
    }
}
