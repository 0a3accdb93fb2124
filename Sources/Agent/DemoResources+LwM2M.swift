import CoAP
import LwM2M

// The demo's LwM2M side: requests on /<object id>/… go to `RequestHandler` (with the demo's
// attribute store), Observe registers with the `ReportingEngine`, and each tick moves the
// Device object's values and sends the notifications that are due.

extension DemoResources {
    /// Answers a request on an LwM2M path, then sends what became due (a Write changing an
    /// observed value, a Write-Attributes shortening a period).
    ///
    /// A GET with Observe = 0 answered 2.05 (a Read, not a Discover) registers the observation
    /// with the endpoint and the reporting engine; it replaces an earlier observation of the
    /// same path by the same peer under another token (an LwM2M observation is identified by
    /// server and path). A GET with Observe = 1 is answered as a Read; the endpoint has already
    /// ended the observation with that token, and any observation of the same path by the same
    /// peer is ended too (servers that cancel with a new token, protocol pitfall 21).
    mutating func handleLwM2M<Peer>(
        _ request: IncomingRequest<Peer>, endpoint: inout CoAPEndpoint<Peer>, at now: Instant
    ) {
        defer { report(endpoint: &endpoint, at: now) }
        let message = request.message
        let response = RequestHandler().handle(message, registry: registry, attributes: &attributes)
        if message.code == .fetch {
            return observeComposite(request, response: response, endpoint: &endpoint, at: now)
        }
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

    /// Answers a Read-Composite; with Observe = 0 and a 2.05 answer, registers an
    /// Observe-Composite with the endpoint and the reporting engine, replacing the peer's
    /// observation of the same path list under another token (Observe = 1 ends those too).
    private mutating func observeComposite<Peer>(
        _ request: IncomingRequest<Peer>, response: CoAPResponse, endpoint: inout CoAPEndpoint<Peer>, at now: Instant
    ) {
        let message = request.message
        guard request.observe != nil, let paths = try? RequestHandler.compositePaths(of: message) else {
            endpoint.respond(to: request.exchange, with: response, at: now)
            return
        }
        let registering = request.observe == .register && response.code == .content
        if request.observe == .deregister || registering {
            for id in reporting.compositeObservations(of: paths) {
                guard let info = endpoint.observationInfo(id), info.peer == request.peer,
                      info.token != message.token else { continue }
                reporting.cancel(observation: id)
                endpoint.cancelObservation(id)
            }
        }
        guard registering, let format = response.options.first(where: { $0.number == .contentFormat })?.uintValue
            .flatMap({ UInt16(exactly: $0) }) else {
            endpoint.respond(to: request.exchange, with: response, at: now)
            return
        }
        if let id = endpoint.respond(to: request.exchange, with: response, acceptObservation: true, at: now) {
            reporting.observe(paths: paths, observation: id, format: format, registry: registry,
                              attributes: attributes, at: now)
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

    /// Sends the LwM2M notifications due `now`, after taking in the registry's changes. An
    /// observation the endpoint no longer knows is forgotten.
    mutating func report<Peer>(endpoint: inout CoAPEndpoint<Peer>, at now: Instant) {
        let notifications = reporting.update(changed: registry.takeChanges(), registry: registry,
                                             attributes: attributes, at: now)
        for notification in notifications
        where !endpoint.notify(notification.observation, with: notification.response, at: now) {
            reporting.cancel(observation: notification.observation)
        }
    }

    /// Moves the Device object on one tick: Current Time (/3/0/13) follows the clock (set only
    /// when the second changed), Battery Level (/3/0/9) drops by 1 every 10 ticks, back to 100
    /// after 0.
    mutating func updateDevice(at now: Instant) {
        let currentTime = startTime + (now - start).components.seconds
        let timePath = LwM2MPath(3, 0, DeviceObject.Resource.currentTime)
        if (try? registry.records(at: timePath)) != [LwM2MRecord(timePath, .time(currentTime))] {
            try? device.set(timePath, .time(currentTime))
        }
        if counter % 10 == 0 {
            batteryLevel = batteryLevel > 0 ? batteryLevel - 1 : 100
            try? device.set(LwM2MPath(3, 0, DeviceObject.Resource.batteryLevel), .integer(batteryLevel))
        }
    }
}
