import AgentCommon
import AgentDaemon
import CoAP
import DTLS
import Transport

/// What a one-shot request over DTLS produced: the response and how the session went.
public struct SecureExchange {
    /// The final CoAP response (an empty Reset for a ping).
    public let response: CoAPMessage
    /// The negotiated cipher suite (mbedTLS name).
    public let cipherSuite: String
    /// Whether the handshake resumed `resuming`.
    public let resumed: Bool
    /// From the first ClientHello to the handshake's end.
    public let handshakeDuration: Duration
    /// From the first ClientHello to the final CoAP response.
    public let totalDuration: Duration
    /// The session to resume on the next connection to the same server.
    public let savedSession: DTLSSavedSession?
}

/// Sends one CoAP request over DTLS (`coaps://`) and waits for its response, as
/// `lwm2m-agent coap … coaps://…` does: resolve, handshake, request, close_notify.
public enum SecureOneShotClient {
    /// - Parameters:
    ///   - dtls: credentials and trust; its `serverName` defaults to the URI host.
    ///   - timeout: bounds the whole exchange (handshake included).
    public static func perform(
        _ request: CoAPRequest, uri text: String, configuration: EndpointConfiguration, dtls: DTLSConfiguration,
        timeout: Duration, ping: Bool = false, resuming: DTLSSavedSession? = nil
    ) throws(OneShotError) -> SecureExchange {
        do { try MbedTLSGuard.check() } catch { throw .dtls(error) }
        let uri: CoAPURI
        do { uri = try CoAPURI(text) } catch { throw .uri(error) }
        guard uri.scheme == .coaps else { throw .unsupportedScheme(uri.scheme.rawValue) }
        var dtls = dtls
        if dtls.serverName == nil { dtls.serverName = uri.host }
        let peer: SocketAddress
        do { peer = try Resolver.resolve(host: uri.host, port: uri.port)[0] } catch { throw .transport(error) }

        let start = MonotonicClock.now()
        let channel = try DTLSChannel(server: peer, dtls: dtls, configuration: configuration, resuming: resuming)
        defer { channel.close() }
        let request = OneShotClient.addingURIOptions(of: uri, to: request)
        let id = ping ? channel.endpoint.ping(peer, at: start) : channel.endpoint.send(request, to: peer, at: start)
        var outcome: Result<CoAPMessage, OneShotError>? = nil
        while outcome == nil {
            guard MonotonicClock.now() - start < timeout else {
                throw channel.session.state == .handshaking ? .dtls(.handshakeTimeout) : .deadlineExceeded
            }
            do {
                try channel.runOnce(until: start + timeout) { event, endpoint, now in
                    trackOneShot(event, of: id, endpoint: &endpoint, at: now, into: &outcome)
                }
            } catch {
                throw .transport(error)
            }
            while let event = channel.nextDTLSEvent() {
                if case .failed(let error) = event { throw .dtls(error) }
                if case .closed = event, outcome == nil { throw .dtls(.closedByPeer) }
            }
        }
        // CoAP gave up while the handshake was still retransmitting: say so, not just "timeout".
        if case .failure = outcome!, channel.session.state == .handshaking { throw .dtls(.handshakeTimeout) }
        let response = try outcome!.get()
        let end = MonotonicClock.now()
        return SecureExchange(
            response: response, cipherSuite: channel.session.cipherSuite ?? "", resumed: channel.session.resumed,
            handshakeDuration: (channel.session.connectedAt ?? end) - start, totalDuration: end - start,
            savedSession: channel.session.savedSession)
    }
}
