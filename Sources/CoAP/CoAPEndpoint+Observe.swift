// Observe, server role (RFC 7641): notifications, sequence numbers, cancellation.

/// What the application may know about an observation registered with it.
public struct ObservationInfo<Peer: Hashable & Sendable>: Sendable {
    public let peer: Peer
    public let token: Token
    /// The registering GET/FETCH (its path, Accept, query …).
    public let request: CoAPMessage
}

extension CoAPEndpoint {
    /// Sends a notification for `observation`. It is confirmable when `confirmable` is true, or
    /// when none was confirmable for `confirmableNotificationInterval` (RFC 7641 §4.5); else
    /// non-confirmable. If a confirmable notification is still unacknowledged, the new one
    /// takes its place and inherits its retransmission state (§4.5.2). A body larger than one
    /// block goes as its first Block2 block; the observer fetches the rest.
    /// Returns false if the observation no longer exists.
    @discardableResult
    public mutating func notify(
        _ id: ObservationID, with response: CoAPResponse, confirmable: Bool = false, at now: Instant
    ) -> Bool {
        guard var observation = observations[id] else { return false }
        guard response.code.isSuccess else {
            // An error ends the observation (§4.2): send it without an Observe option.
            endObservation(id, .cancelled)
            var message = CoAPMessage(type: .nonConfirmable, code: response.code, messageID: makeMessageID(),
                                      token: observation.token, options: response.options, payload: response.payload)
            message.removeOption(.observe)
            _ = try? transmit(message, to: observation.peer, owner: nil, at: now)
            return true
        }
        observation.sequence = (observation.sequence + 1) & 0xFF_FFFF
        var message = CoAPMessage(type: .nonConfirmable, code: response.code, messageID: makeMessageID(),
                                  token: observation.token, options: response.options, payload: response.payload)
        message.observe = observation.sequence
        sliceForBlock2(&message, requested: nil, request: observation.request, peer: observation.peer, at: now)

        let inFlight = observation.inFlightMessageID.map { TransmissionKey(peer: observation.peer, messageID: $0) }
        let previous = inFlight.flatMap { transmissions.removeValue(forKey: $0) }
        let mustConfirm = confirmable || previous != nil
            || now - observation.lastConfirmable >= configuration.confirmableNotificationInterval
        if mustConfirm {
            message.type = .confirmable
            observation.lastConfirmable = now
            observation.inFlightMessageID = message.messageID
        }
        observation.lastMessageID = message.messageID
        observations[id] = observation
        guard let bytes = try? transmit(message, to: observation.peer, owner: .notification(id), at: now) else {
            endObservation(id, .cancelled)
            return false
        }
        if let previous {
            // Keep the replaced notification's back-off: same retry count and deadline.
            let key = TransmissionKey(peer: observation.peer, messageID: message.messageID)
            transmissions[key] = Transmission(
                datagram: bytes, owner: .notification(id), retransmissions: previous.retransmissions,
                timeout: previous.timeout, deadline: previous.deadline, generation: previous.generation)
            timers.schedule(.retransmit(key, generation: previous.generation), at: previous.deadline)
        }
        return true
    }

    /// Ends an observation from our side (e.g. the resource was deleted); no message is sent.
    public mutating func cancelObservation(_ id: ObservationID) {
        endObservation(id, .cancelled)
    }

    /// The peer, token and registering request of a live observation.
    public func observationInfo(_ id: ObservationID) -> ObservationInfo<Peer>? {
        observations[id].map { ObservationInfo(peer: $0.peer, token: $0.token, request: $0.request) }
    }

    /// Live observations.
    public var observationIDs: [ObservationID] { Array(observations.keys) }

    mutating func endObservation(_ id: ObservationID, _ reason: ObservationEnd) {
        guard let observation = observations.removeValue(forKey: id) else { return }
        observationsByToken[PeerToken(peer: observation.peer, token: observation.token)] = nil
        if let messageID = observation.inFlightMessageID {
            transmissions[TransmissionKey(peer: observation.peer, messageID: messageID)] = nil
        }
        events.append(.observationEnded(id, reason))
    }
}
