import AgentCommon
import AgentDaemon
import CoAP
import DTLS
import Transport

/// Why a one-shot request produced no response.
public enum OneShotError: Error, CustomStringConvertible {
    case uri(CoAPURIError)
    case transport(TransportError)
    case unsupportedScheme(String)
    case failed(RequestFailure)
    case dtls(DTLSError)
    case deadlineExceeded

    public var description: String {
        switch self {
        case .uri(let error): "invalid URI: \(error)"
        case .transport(let error): "\(error)"
        case .unsupportedScheme(let scheme): "\(scheme):// is not supported by this client (coap:// uses OneShotClient, coaps:// SecureOneShotClient)"
        case .failed(let failure): "\(failure)"
        case .dtls(let error): "\(error)"
        case .deadlineExceeded: "no answer before the deadline"
        }
    }
}

/// Sends one request over UDP and waits for its final response (block-wise transfers and
/// retransmissions included), as `lwm2m-agent coap …` does.
public enum OneShotClient {
    /// Resolves `uri`, sends `request` (Uri-Path/Uri-Query taken from the URI) and returns the
    /// response; a CoAP ping when `ping` is true returns an empty message on success.
    public static func perform(
        _ request: CoAPRequest, uri text: String, configuration: EndpointConfiguration,
        timeout: Duration, ping: Bool = false
    ) throws(OneShotError) -> CoAPMessage {
        let uri: CoAPURI
        do { uri = try CoAPURI(text) } catch { throw .uri(error) }
        guard uri.scheme == .coap else { throw .unsupportedScheme(uri.scheme.rawValue) }
        do {
            let peer = try Resolver.resolve(host: uri.host, port: uri.port)[0]
            let socket = try UDPSocket(family: peer.family)
            let runner = EndpointRunner(sockets: [socket], configuration: configuration)
            let request = addingURIOptions(of: uri, to: request)
            let start = MonotonicClock.now()
            let id = ping ? runner.endpoint.ping(peer, at: start) : runner.endpoint.send(request, to: peer, at: start)
            var outcome: Result<CoAPMessage, OneShotError>? = nil
            while outcome == nil {
                guard MonotonicClock.now() - start < timeout else { throw OneShotError.deadlineExceeded }
                try runner.runOnce(until: start + timeout) { event, endpoint, now in
                    trackOneShot(event, of: id, endpoint: &endpoint, at: now, into: &outcome)
                }
            }
            return try outcome!.get()
        } catch let error as TransportError {
            throw .transport(error)
        } catch let error as OneShotError {
            throw error
        } catch {
            throw .deadlineExceeded
        }
    }

    /// `request` with its Uri-Path and Uri-Query options replaced by those of `uri`.
    static func addingURIOptions(of uri: CoAPURI, to request: CoAPRequest) -> CoAPRequest {
        var request = request
        request.options.removeAll { $0.number == .uriPath || $0.number == .uriQuery }
        var message = CoAPMessage(type: .confirmable, code: request.method, options: request.options)
        for option in uri.options { message.addOption(option) }
        request.options = message.options
        return request
    }
}

/// Records in `outcome` what `event` says about request `id` (response, pong, failure) and
/// answers any request the server sends: a one-shot client serves nothing, but must not leave
/// a request hanging.
func trackOneShot(_ event: EndpointEvent<SocketAddress>, of id: RequestID, endpoint: inout CoAPEndpoint<SocketAddress>,
                  at now: Instant, into outcome: inout Result<CoAPMessage, OneShotError>?) {
    switch event {
    case .response(let answered, let response) where answered == id: outcome = .success(response)
    case .pong(let answered) where answered == id: outcome = .success(.empty(.reset, messageID: 0))
    case .requestFailed(let failed, let failure) where failed == id: outcome = .failure(.failed(failure))
    case .request(let incoming): endpoint.respond(to: incoming.exchange, with: .error(.notFound, "client only"), at: now)
    default: break
    }
}
