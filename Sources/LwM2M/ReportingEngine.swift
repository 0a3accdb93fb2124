import CoAP

/// LwM2M Information Reporting (TS 1.1 §6.4): the observations of LwM2M paths and when each is
/// due a notification. Sans-IO: fed with the changed paths, the registry, the attributes in
/// effect and the current time; returns the notifications to send through
/// `CoAPEndpoint.notify`. The CoAP layer keeps tokens, peers and sequence numbers; this keeps
/// the reporting rules (TS 1.1 §5.1.2, details in `ReportingEngine+Rules.swift`):
///
/// - a change at, above or below an observed path makes a notification due, but no earlier
///   than `lastSent + pmin`;
/// - `pmax` (when greater than pmin) forces a notification at `lastSent + pmax` without change;
/// - for an observed numeric single value, gt / lt / st filter changes: one is notifiable only
///   when the value crossed gt or lt since the last notification, or moved by at least st from
///   the last notified value (any of those set; all changes when none is set);
/// - `epmin` (when set) defers evaluating a change until `lastEvaluated + epmin`; `epmax` (when
///   greater than epmin) samples the path at `lastEvaluated + epmax` even without a change
///   report, and a content different from the last one sent counts as a change;
/// - a read failing at notification time (the resource or instance was deleted) produces the
///   error response (4.04) and ends the observation; a change report that finds the target
///   unreadable makes that error due at once, whatever pmin says.
///
/// Attributes are looked up on every `update`/`due` call, so a Write-Attributes takes effect
/// at the next call.
public struct ReportingEngine: Sendable {
    /// One notification to send: `CoAPEndpoint.notify(observation, with: response, at:)`. An
    /// error response ends the observation (the engine has already forgotten it).
    public struct Notification: Hashable, Sendable {
        /// The CoAP observation to notify.
        public let observation: ObservationID
        /// 2.05 with the content in the registration's format, or the error ending the observation.
        public let response: CoAPResponse

        /// A notification of `observation` carrying `response`.
        public init(observation: ObservationID, response: CoAPResponse) {
            self.observation = observation
            self.response = response
        }
    }

    private var entries: [ObservationID: Entry] = [:]
    /// Observation IDs in registration order, so notifications come out deterministically.
    private var order: [ObservationID] = []

    /// An engine observing nothing.
    public init() {}

    /// The live observations, in registration order.
    public var observations: [ObservationID] { order }

    /// The observations of exactly `path`, in registration order.
    public func observations(at path: LwM2MPath) -> [ObservationID] {
        order.filter { entries[$0]?.path == path }
    }

    /// The path `observation` observes.
    public func path(of observation: ObservationID) -> LwM2MPath? { entries[observation]?.path }

    /// Starts reporting `path` for `observation`, which the CoAP layer just accepted with a
    /// response in `format` sent `now`. `registry` supplies the content that response carried
    /// (the reference for gt / lt / st and epmax sampling) and `attributes` the periods in
    /// effect. Registering a known ID again starts it afresh.
    public mutating func observe(path: LwM2MPath, observation: ObservationID, format: UInt16,
                                 registry: ObjectRegistry, attributes: AttributeStore, at now: Instant) {
        if entries[observation] == nil { order.append(observation) }
        entries[observation] = Entry(path: path, format: format, records: try? registry.records(at: path),
                                     attributes: attributes.effective(for: path), at: now)
    }

    /// Forgets `observation` (the CoAP layer reported it ended). Returns whether it was known.
    @discardableResult
    public mutating func cancel(observation: ObservationID) -> Bool {
        guard entries.removeValue(forKey: observation) != nil else { return false }
        order.removeAll { $0 == observation }
        return true
    }

    /// Forgets every observation of exactly `path` and returns their IDs, for the caller to
    /// cancel in the CoAP layer: the fallback when a server cancels with another token than it
    /// registered with (protocol pitfall 21).
    @discardableResult
    public mutating func cancel(path: LwM2MPath) -> [ObservationID] {
        let removed = observations(at: path)
        for id in removed { cancel(observation: id) }
        return removed
    }

    /// Takes in the paths changed since the last call (`ObjectRegistry.takeChanges()`), refreshes
    /// the attributes in effect, and returns every notification due `now` (as `due` does).
    public mutating func update(changed: [LwM2MPath], registry: ObjectRegistry, attributes: AttributeStore,
                                at now: Instant) -> [Notification] {
        refresh(attributes)
        if !changed.isEmpty {
            for id in order {
                guard let path = entries[id]?.path,
                      changed.contains(where: { path.contains($0) || $0.contains(path) }) else { continue }
                entries[id]!.changeReported(registry: registry, at: now)
            }
        }
        return collectDue(registry: registry, at: now)
    }

    /// The notifications due `now`: pending changes whose pmin has passed, observations whose
    /// pmax has expired, and what deferred (epmin) or periodic (epmax) evaluations find. Each
    /// carries the current content of the observed path.
    public mutating func due(registry: ObjectRegistry, attributes: AttributeStore, at now: Instant) -> [Notification] {
        refresh(attributes)
        return collectDue(registry: registry, at: now)
    }

    /// The earliest instant something becomes due (a pending change's pmin, a pmax, an epmin or
    /// epmax evaluation); nil when nothing is scheduled. Pass it to the run loop as a wake-up
    /// deadline.
    public var nextDeadline: Instant? {
        entries.values.compactMap(\.deadline).min()
    }

    // MARK: - Private

    private mutating func refresh(_ attributes: AttributeStore) {
        for id in order {
            guard let path = entries[id]?.path else { continue }
            entries[id]!.attributes = attributes.effective(for: path)
        }
    }

    private mutating func collectDue(registry: ObjectRegistry, at now: Instant) -> [Notification] {
        var notifications: [Notification] = []
        for id in order {
            guard var entry = entries[id], let deadline = entry.deadline, deadline <= now else { continue }
            entry.evaluateIfDue(registry: registry, at: now)
            guard entry.isDue(at: now) else {
                entries[id] = entry
                continue
            }
            do throws(LwM2MError) {
                let response = try entry.notification(registry: registry, at: now)
                entries[id] = entry
                notifications.append(Notification(observation: id, response: response))
            } catch {
                notifications.append(Notification(observation: id, response: error.response))
                cancel(observation: id)
            }
        }
        return notifications
    }
}
