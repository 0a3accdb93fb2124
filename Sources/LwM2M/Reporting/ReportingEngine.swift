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
///   unreadable makes that error due at once, whatever pmin says;
/// - a change the registry had already queued when an observation was registered (an object
///   that reports what the registration's own Read found) is in the content the response
///   carried, so it does not make a notification due for that observation.
///
/// Attributes are looked up on every `update`/`due` call, so a Write-Attributes takes effect
/// at the next call.
///
/// One engine serves one server (the caller keeps one per server, with that server's
/// `AttributeStore`). Composite observations (Observe-Composite, `observe(paths:…)`) carry the
/// records of all their paths in SenML. While the server is offline (`setOnline(false)`), the
/// engine follows its Notification Storing When Disabled or Offline resource (/1/x/6,
/// `storesNotificationsWhenOffline`): when true, due notifications are stored (at most
/// `storageLimit`, the oldest dropped and counted in `droppedNotifications`) and handed out
/// first, in order, by the first `update`/`due` after `setOnline(true)`; when false, reporting
/// is suspended (nothing is evaluated for sending, nothing stored, no deadline), and on return
/// every observation with a change pending, or whose pmax expired, notifies once with the
/// current content.
public struct ReportingEngine: Sendable {
    /// One notification to send: `CoAPEndpoint.notify(observation, with: response, at:)`. An
    /// error response ends the observation (the engine has already forgotten it).
    public struct Notification: Hashable, Sendable {
        /// The CoAP observation to notify.
        public let observation: ObservationID
        /// 2.05 with the content in the registration's format, or the error ending the observation.
        public let response: CoAPResponse
        /// Send it confirmable (an object that asks for it: `ConfirmablyNotified`).
        public let confirmable: Bool

        /// A notification of `observation` carrying `response`.
        public init(observation: ObservationID, response: CoAPResponse, confirmable: Bool = false) {
            self.observation = observation
            self.response = response
            self.confirmable = confirmable
        }
    }

    private var entries: [ObservationID: Entry] = [:]
    /// Observation IDs in registration order, so notifications come out deterministically.
    private var order: [ObservationID] = []
    /// Notifications made while offline with storing on, oldest first.
    private var stored: [Notification] = []
    /// How many observations observe each object (at or below its path), and the root.
    private var observed = ObservedObjects()
    /// Changes the registry had queued when an observation was registered, already in the
    /// content its response carried: the next `update` does not count them for it.
    private var reflected: [ObservationID: [LwM2MPath]] = [:]

    /// Whether the server is reachable (registered and not disabled). Starts online.
    public private(set) var isOnline = true
    /// /1/x/6 of the server's account: store notifications while offline (true) or suspend
    /// reporting (false).
    public var storesNotificationsWhenOffline = true
    /// The server these observations belong to. When set and access control applies (several
    /// Server object instances), notifications carry only what the server may read: an object
    /// observation lists its readable instances, a composite one its readable paths, and an
    /// observation of an instance (or below) whose Read right was withdrawn ends with 4.01.
    public var server: ServerContext?
    /// How many notifications are stored at most while offline.
    public var storageLimit = 64
    /// How many stored notifications were dropped (oldest first) because the storage was full.
    public private(set) var droppedNotifications = 0

    /// An engine observing nothing.
    public init() {}

    /// The live observations, in registration order.
    public var observations: [ObservationID] { order }

    /// The single-path observations of exactly `path`, in registration order.
    public func observations(at path: LwM2MPath) -> [ObservationID] {
        order.filter { entries[$0].map { !$0.isComposite && $0.path == path } ?? false }
    }

    /// The composite observations of exactly the path list `paths`, in registration order.
    public func compositeObservations(of paths: [LwM2MPath]) -> [ObservationID] {
        order.filter { entries[$0].map { $0.isComposite && $0.paths == paths } ?? false }
    }

    /// Whether any observation (single-path or composite, the root included) reads object
    /// `objectID`: its path is the object, one of its instances or resources, or the root.
    /// What the outer layer asks before sampling an object (`SamplingSchedule`); O(1).
    public func isObserving(object objectID: UInt16) -> Bool {
        observed.contains(objectID)
    }

    /// The path `observation` observes (the first one of a composite observation).
    public func path(of observation: ObservationID) -> LwM2MPath? { entries[observation]?.path }

    /// Every path `observation` observes.
    public func paths(of observation: ObservationID) -> [LwM2MPath]? { entries[observation]?.paths }

    /// The notifications stored while offline, oldest first.
    public var storedNotifications: [Notification] { stored }

    /// Takes Notification Storing When Disabled or Offline (/1/x/6) from `server`'s account
    /// (true when absent).
    public mutating func loadServerSettings(from registry: ObjectRegistry, server: ServerContext) {
        storesNotificationsWhenOffline = server.storesNotificationsWhenOffline(in: registry)
    }

    /// The server went offline (false) or came back (true). Stored notifications come out with
    /// the next `update`/`due`.
    public mutating func setOnline(_ online: Bool) {
        isOnline = online
    }

    /// Starts reporting `path` for `observation`, which the CoAP layer just accepted with a
    /// response in `format` sent `now`. `registry` supplies the content that response carried
    /// (the reference for gt / lt / st and epmax sampling) and `attributes` the periods in
    /// effect. Registering a known ID again starts it afresh.
    public mutating func observe(path: LwM2MPath, observation: ObservationID, format: UInt16,
                                 registry: ObjectRegistry, attributes: AttributeStore, at now: Instant) {
        var entry = Entry(paths: [path], isComposite: false, format: format, records: nil,
                          attributes: attributes.effective(for: path), at: now)
        entry.lastRecords = try? entry.records(source(registry))
        store(entry, as: observation, registry: registry)
    }

    /// Starts reporting the path list `paths` for a composite `observation` (Observe-Composite:
    /// FETCH with Observe 0), answered `now` in `format` (SenML JSON or CBOR). Notifications
    /// carry the records of every path that exists. Periods: the smallest pmin and the
    /// smallest usable pmax in effect over the paths; gt / lt / st and epmin / epmax do not
    /// apply to composite observations.
    public mutating func observe(paths: [LwM2MPath], observation: ObservationID, format: UInt16,
                                 registry: ObjectRegistry, attributes: AttributeStore, at now: Instant) {
        store(Entry(paths: paths, isComposite: true, format: format, records: Entry.compositeRecords(paths, source(registry)),
                    attributes: Self.compositeAttributes(paths, attributes), at: now),
              as: observation, registry: registry)
    }

    /// Registers (or replaces) `entry` under `observation`, after its content was read: the
    /// changes `registry` has queued by now are in that content (an object that reports what a
    /// Read found, like a sensor read for the first time in a while), so they are not news to
    /// this observation.
    private mutating func store(_ entry: Entry, as observation: ObservationID, registry: ObjectRegistry) {
        if let old = entries[observation] {
            observed.remove(old.paths)
        } else {
            order.append(observation)
        }
        entries[observation] = entry
        observed.add(entry.paths)
        let queued = registry.changedPaths.filter { change in entry.paths.contains { Self.overlap($0, change) } }
        reflected[observation] = queued.isEmpty ? nil : queued
    }

    /// Whether a change at `change` concerns an observation of `path` (at, above or below it).
    private static func overlap(_ path: LwM2MPath, _ change: LwM2MPath) -> Bool {
        path.contains(change) || change.contains(path)
    }

    /// Forgets `observation` (the CoAP layer reported it ended). Returns whether it was known.
    @discardableResult
    public mutating func cancel(observation: ObservationID) -> Bool {
        stored.removeAll { $0.observation == observation }
        return forget(observation)
    }

    /// Forgets `observation` but keeps what was stored for it (its final error notification).
    @discardableResult
    private mutating func forget(_ observation: ObservationID) -> Bool {
        guard let entry = entries.removeValue(forKey: observation) else { return false }
        observed.remove(entry.paths)
        reflected[observation] = nil
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
        // No observation and nothing stored: nothing to report (the client asks on every turn
        // of its loop, every served request among them; no access check to build for nothing).
        if order.isEmpty, stored.isEmpty {
            if !reflected.isEmpty { reflected = [:] }
            return []
        }
        refresh(attributes)
        let source = source(registry)
        if !changed.isEmpty {
            let reflected = self.reflected
            for id in order {
                guard let paths = entries[id]?.paths else { continue }
                let known = reflected.isEmpty ? nil : reflected[id]
                guard changed.contains(where: { change in
                    paths.contains { Self.overlap($0, change) } && !(known?.contains(change) ?? false)
                }) else { continue }
                entries[id]!.changeReported(source: source, at: now)
            }
        }
        if !reflected.isEmpty { reflected = [:] }
        return collectDue(source: source, at: now)
    }

    /// The notifications due `now`: pending changes whose pmin has passed, observations whose
    /// pmax has expired, and what deferred (epmin) or periodic (epmax) evaluations find. Each
    /// carries the current content of the observed path.
    public mutating func due(registry: ObjectRegistry, attributes: AttributeStore, at now: Instant) -> [Notification] {
        if !reflected.isEmpty { reflected = [:] }
        refresh(attributes)
        return collectDue(source: source(registry), at: now)
    }

    /// The earliest instant something becomes due (a pending change's pmin, a pmax, an epmin or
    /// epmax evaluation); nil when nothing is scheduled. Pass it to the run loop as a wake-up
    /// deadline.
    public var nextDeadline: Instant? {
        guard isOnline || storesNotificationsWhenOffline else { return nil }
        if isOnline, !stored.isEmpty { return .zero }
        return entries.values.compactMap(\.deadline).min()
    }

    // MARK: - Private

    private mutating func refresh(_ attributes: AttributeStore) {
        for id in order {
            guard let entry = entries[id] else { continue }
            entries[id]!.attributes = entry.isComposite
                ? Self.compositeAttributes(entry.paths, attributes) : attributes.effective(for: entry.path)
        }
    }

    /// The periods of a composite observation: the smallest pmin, and the smallest usable pmax,
    /// in effect over `paths`.
    static func compositeAttributes(_ paths: [LwM2MPath], _ attributes: AttributeStore) -> NotificationAttributes {
        let each = paths.map { attributes.effective(for: $0) }
        let pmins = each.map { $0.pmin ?? 0 }
        let pmaxes = each.compactMap(\.effectivePmax)
        let pmin = pmins.min().flatMap { $0 > 0 ? $0 : nil }
        return NotificationAttributes(pmin: pmin, pmax: pmaxes.min())
    }

    private mutating func collectDue(source: Source, at now: Instant) -> [Notification] {
        guard isOnline || storesNotificationsWhenOffline else { return [] }
        let fresh = collectFresh(source: source, at: now)
        guard isOnline else {
            stored += fresh
            if stored.count > storageLimit {
                let excess = stored.count - max(storageLimit, 0)
                stored.removeFirst(excess)
                droppedNotifications += excess
            }
            return []
        }
        defer { stored = [] }
        return stored + fresh
    }

    /// The reading context of `registry` for this engine's server.
    private func source(_ registry: ObjectRegistry) -> Source {
        Source(registry: registry, access: AccessControl(server: server, registry: registry))
    }

    private mutating func collectFresh(source: Source, at now: Instant) -> [Notification] {
        var notifications: [Notification] = []
        for id in order {
            guard var entry = entries[id], let deadline = entry.deadline, deadline <= now else { continue }
            entry.evaluateIfDue(source: source, at: now)
            guard entry.isDue(at: now) else {
                entries[id] = entry
                continue
            }
            do throws(LwM2MError) {
                let response = try entry.notification(source: source, at: now)
                entries[id] = entry
                notifications.append(Notification(observation: id, response: response,
                                                  confirmable: source.registry.notifiesConfirmably(entry.paths)))
            } catch {
                notifications.append(Notification(observation: id, response: error.response))
                forget(id)
            }
        }
        return notifications
    }
}
