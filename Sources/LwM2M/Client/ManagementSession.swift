import CoAP

/// What one management server has set up with the client: its notification attributes and its
/// observations (single-path and composite). Answers that server's Device Management requests
/// through `RequestHandler` (with access control when `server` is set) and sends the
/// notifications its observations are due, through the CoAP endpoint the requests came from.
///
/// The LwM2M client keeps one per registered server; the demo keeps one for whoever talks to it.
public struct ManagementSession: Sendable {
    /// The server, for access control and its Server-object settings; nil serves anyone with
    /// full rights (the demo).
    public let server: ServerContext?
    /// The attributes this server attached with Write-Attributes, over its Server-object
    /// defaults (/1/x/2 pmin, /1/x/3 pmax).
    public var attributes = AttributeStore()
    /// This server's observations and their reporting rules.
    public var reporting = ReportingEngine()

    /// A session for `server` (nil: no access control), loading its Server-object settings.
    public init(server: ServerContext? = nil, registry: ObjectRegistry) {
        self.server = server
        reporting.server = server
        reloadServerSettings(from: registry)
    }

    /// When the next notification may be due.
    public var nextDeadline: Instant? { reporting.nextDeadline }

    /// Reads the server's defaults again (/1/x/2, /1/x/3, /1/x/6) after they may have changed.
    public mutating func reloadServerSettings(from registry: ObjectRegistry) {
        guard let server else { return }
        attributes.loadServerDefaults(from: registry, server: server)
        reporting.loadServerSettings(from: registry, server: server)
    }

    /// Answers `request` from this server, registering or cancelling an observation when it
    /// asks for one.
    ///
    /// A GET (or a composite FETCH) with Observe = 0 answered 2.05 — a Read, not a Discover —
    /// registers the observation with the endpoint and the reporting engine; it replaces an
    /// earlier observation of the same path (or path list) by the same peer under another token
    /// (an LwM2M observation is identified by server and path). Observe = 1 is answered as a
    /// Read; the endpoint has already ended the observation with that token, and any
    /// observation of the same target by the same peer is ended too (servers that cancel with a
    /// new token, protocol pitfall 21).
    ///
    /// With `configurationGuard` (the LwM2M client's configuration objects), the request is
    /// answered under its rules: nothing this server does may leave a configuration the client
    /// would refuse, or lock a server out.
    public mutating func handle<Peer>(_ request: IncomingRequest<Peer>, registry: ObjectRegistry,
                                      endpoint: inout CoAPEndpoint<Peer>, at now: Instant,
                                      configurationGuard: ConfigurationGuard? = nil) {
        let message = request.message
        var attributes = self.attributes
        self.attributes = AttributeStore()  // keep the store uniquely referenced while it is edited
        defer { self.attributes = attributes }
        let answer = { [server] () -> CoAPResponse in
            if let server {
                RequestHandler().handle(message, registry: registry, server: server, attributes: &attributes)
            } else {
                RequestHandler().handle(message, registry: registry, attributes: &attributes)
            }
        }
        if let block = request.streamedBlock {
            // One block of a streamed Write: checked as a Write, handed to the object.
            let response = RequestHandler().handleBlock(message, block: block, registry: registry, server: server)
            return respond(request, response, &endpoint, now)
        }
        let response = configurationGuard.map { $0.answer(message, answer) } ?? answer()
        let target: Target
        switch message.code {
        case .get where message.accept != ContentFormat.linkFormat:
            guard let path = LwM2MPath(uriPathOf: message) else { return respond(request, response, &endpoint, now) }
            target = .path(path)
        case .fetch:
            guard let paths = try? RequestHandler.compositePaths(of: message) else {
                return respond(request, response, &endpoint, now)
            }
            target = .paths(paths)
        default:
            return respond(request, response, &endpoint, now)
        }
        guard request.observe != nil else { return respond(request, response, &endpoint, now) }
        let registering = request.observe == .register && response.code == .content
        cancelObservations(of: target, by: request.peer, except: message.token, endpoint: &endpoint)
        guard registering, let format = response.options.first(where: { $0.number == .contentFormat })?.uintValue
            .flatMap({ UInt16(exactly: $0) }) else { return respond(request, response, &endpoint, now) }
        guard let id = endpoint.respond(to: request.exchange, with: response, acceptObservation: true, at: now) else {
            return
        }
        switch target {
        case .path(let path):
            reporting.observe(path: path, observation: id, format: format, registry: registry,
                              attributes: attributes, at: now)
        case .paths(let paths):
            reporting.observe(paths: paths, observation: id, format: format, registry: registry,
                              attributes: attributes, at: now)
        }
    }

    /// Sends the notifications due `now` after the registry reported `changes`. An observation
    /// the endpoint no longer knows is forgotten.
    public mutating func report<Peer>(changes: [LwM2MPath], registry: ObjectRegistry,
                                      endpoint: inout CoAPEndpoint<Peer>, at now: Instant) {
        let notifications = reporting.update(changed: changes, registry: registry, attributes: attributes, at: now)
        for notification in notifications
        where !endpoint.notify(notification.observation, with: notification.response,
                               confirmable: notification.confirmable, at: now) {
            reporting.cancel(observation: notification.observation)
        }
    }

    /// A streamed Write from this server ended without its last block (the endpoint's
    /// `.uploadAbandoned`): the object drops what it received.
    public func uploadAbandoned<Peer>(_ upload: AbandonedUpload<Peer>, registry: ObjectRegistry) {
        RequestHandler().abandonBlocks(of: upload.request, registry: registry)
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

    private enum Target {
        case path(LwM2MPath)
        case paths([LwM2MPath])
    }

    private func respond<Peer>(_ request: IncomingRequest<Peer>, _ response: CoAPResponse,
                               _ endpoint: inout CoAPEndpoint<Peer>, _ now: Instant) {
        endpoint.respond(to: request.exchange, with: response, at: now)
    }

    /// Ends `peer`'s observations of exactly this target in the engine and the endpoint,
    /// except the one on `token` (the endpoint itself replaces or ends that one, keeping
    /// RFC 7641 §3.4 sequence numbers).
    private mutating func cancelObservations<Peer>(of target: Target, by peer: Peer, except token: Token,
                                                   endpoint: inout CoAPEndpoint<Peer>) {
        let ids = switch target {
        case .path(let path): reporting.observations(at: path)
        case .paths(let paths): reporting.compositeObservations(of: paths)
        }
        for id in ids {
            guard let info = endpoint.observationInfo(id), info.peer == peer, info.token != token else { continue }
            reporting.cancel(observation: id)
            endpoint.cancelObservation(id)
        }
    }
}
