import CoAP

/// What one management server has set up with the client: its notification attributes and its
/// observations. Answers that server's Device Management requests through `RequestHandler` and
/// sends the notifications its observations are due, through the CoAP endpoint the requests
/// came from.
public struct ManagementSession: Sendable {
    /// The attributes this server attached with Write-Attributes, over its Server-object
    /// defaults (/1/x/2 pmin, /1/x/3 pmax).
    public var attributes: AttributeStore
    /// This server's observations and their reporting rules.
    public var reporting = ReportingEngine()

    /// A session with `defaults` (from the Server object) as the attributes of last resort.
    public init(defaults: NotificationAttributes = NotificationAttributes()) {
        attributes = AttributeStore(defaults: defaults)
    }

    /// When the next notification may be due.
    public var nextDeadline: Instant? { reporting.nextDeadline }

    /// Answers `request` from this server, registering or cancelling an observation when it
    /// asks for one.
    ///
    /// A GET with Observe = 0 answered 2.05 (a Read, not a Discover) registers the observation
    /// with the endpoint and the reporting engine; it replaces an earlier observation of the
    /// same path by the same peer under another token (an LwM2M observation is identified by
    /// server and path). A GET with Observe = 1 is answered as a Read; the endpoint has already
    /// ended the observation with that token, and any observation of the same path by the same
    /// peer is ended too (servers that cancel with a new token, protocol pitfall 21).
    public mutating func handle<Peer>(_ request: IncomingRequest<Peer>, registry: ObjectRegistry,
                                      endpoint: inout CoAPEndpoint<Peer>, at now: Instant) {
        let message = request.message
        let response = RequestHandler().handle(message, registry: registry, attributes: &attributes)
        guard message.code == .get, let path = LwM2MPath(segments: message.uriPath) else {
            endpoint.respond(to: request.exchange, with: response, at: now)
            return
        }
        let registering = request.observe == .register && message.accept != ContentFormat.linkFormat
            && response.code == .content
        if request.observe == .deregister || registering {
            cancelObservations(of: path, by: request.peer, except: message.token, endpoint: &endpoint)
        }
        guard registering, let format = response.options.first(where: { $0.number == .contentFormat })?.uintValue
            .flatMap({ UInt16(exactly: $0) }) else {
            endpoint.respond(to: request.exchange, with: response, at: now)
            return
        }
        if let id = endpoint.respond(to: request.exchange, with: response, acceptObservation: true, at: now) {
            reporting.observe(path: path, observation: id, format: format, registry: registry,
                              attributes: attributes, at: now)
        }
    }

    /// Sends the notifications due `now` after the registry reported `changes`. An observation
    /// the endpoint no longer knows is forgotten.
    public mutating func report<Peer>(changes: [LwM2MPath], registry: ObjectRegistry,
                                      endpoint: inout CoAPEndpoint<Peer>, at now: Instant) {
        let notifications = reporting.update(changed: changes, registry: registry, attributes: attributes, at: now)
        for notification in notifications
        where !endpoint.notify(notification.observation, with: notification.response, at: now) {
            reporting.cancel(observation: notification.observation)
        }
    }

    /// Forgets an observation the endpoint reported as ended.
    public mutating func observationEnded(_ id: ObservationID) {
        reporting.cancel(observation: id)
    }

    /// Ends every observation in the engine and the endpoint (the server de-registered or the
    /// connection was replaced).
    public mutating func endObservations<Peer>(endpoint: inout CoAPEndpoint<Peer>) {
        for id in reporting.observations {
            reporting.cancel(observation: id)
            endpoint.cancelObservation(id)
        }
    }

    /// Ends `peer`'s observations of exactly `path` in the engine and the endpoint, except the
    /// one on `token` (the endpoint itself replaces or ends that one, keeping RFC 7641 §3.4
    /// sequence numbers).
    private mutating func cancelObservations<Peer>(of path: LwM2MPath, by peer: Peer, except token: Token,
                                                   endpoint: inout CoAPEndpoint<Peer>) {
        for id in reporting.observations(at: path) {
            guard let info = endpoint.observationInfo(id), info.peer == peer, info.token != token else { continue }
            reporting.cancel(observation: id)
            endpoint.cancelObservation(id)
        }
    }
}
