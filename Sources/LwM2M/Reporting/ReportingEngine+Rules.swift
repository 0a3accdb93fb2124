import CoAP

// The per-observation state of `ReportingEngine` and the TS 1.1 §5.1.2 rules deciding when a
// notification is due.

extension ReportingEngine {
    /// What an evaluation reads: the registry, filtered by the engine's server's access rights
    /// (no filter without a server or with a single Server object instance).
    struct Source {
        let registry: ObjectRegistry
        let access: AccessControl?
    }

    /// One observation: its path and format, what was last sent and when, and what is waiting.
    struct Entry: Sendable {
        /// The observed paths: one, or the list of a composite observation.
        let paths: [LwM2MPath]
        /// An Observe-Composite: notifications carry SenML records of every path.
        let isComposite: Bool
        let format: UInt16
        /// The attributes in effect, as of the last `update`/`due`.
        var attributes: NotificationAttributes
        /// When the last notification (or the registration response) was sent.
        var lastSent: Instant
        /// The content last sent (nil when it could not be read), for gt / lt / st and for
        /// epmax sampling.
        var lastRecords: [LwM2MRecord]?
        /// When the notification conditions were last evaluated (a change, a sample, a send).
        var lastEvaluated: Instant
        /// A notifiable change is waiting for pmin to pass.
        var pending = false
        /// A change was reported before epmin had passed; it is evaluated when it has.
        var deferredChange = false
        /// A change report found the path unreadable: the error is due at once.
        var failed = false

        init(paths: [LwM2MPath], isComposite: Bool, format: UInt16, records: [LwM2MRecord]?,
             attributes: NotificationAttributes, at now: Instant) {
            self.paths = paths
            self.isComposite = isComposite
            self.format = format
            self.attributes = attributes
            lastSent = now
            lastRecords = records
            lastEvaluated = now
        }

        /// The (first) observed path.
        var path: LwM2MPath { paths.first ?? .root }

        /// The current content of the observed path(s), as `source`'s server may read it. A
        /// composite observation leaves out the paths that no longer exist or that the server may
        /// not read, and never fails; a single path the server lost its Read right on is 4.01
        /// (the observation then ends).
        func records(_ source: Source) throws(LwM2MError) -> [LwM2MRecord] {
            if isComposite { return Self.compositeRecords(paths, source) }
            if let access = source.access, path.depth >= 2 {
                _ = try source.registry.target(path)
                try access.require(.read, at: path)
            }
            return try RequestHandler.readableRecords(path, source.registry, source.access)
        }

        /// The records of every existing, readable path of `paths`, each once, in list order.
        static func compositeRecords(_ paths: [LwM2MPath], _ source: Source) -> [LwM2MRecord] {
            let registry = source.registry
            var records: [LwM2MRecord] = []
            var seen: Set<LwM2MPath> = []
            for path in paths {
                let targets = path.isRoot
                    ? registry.objectIDs.filter { !RequestHandler.bootstrapOnlyObjects.contains($0) }.map { LwM2MPath($0) }
                    : [path]
                for target in targets {
                    guard let objectID = target.objectID, !RequestHandler.bootstrapOnlyObjects.contains(objectID) else {
                        continue
                    }
                    if let access = source.access, let instance = target.instanceID,
                       !access.canRead(objectID: objectID, instanceID: instance) { continue }
                    guard let part = try? RequestHandler.readableRecords(target, registry, source.access) else { continue }
                    for record in part where seen.insert(record.path).inserted { records.append(record) }
                }
            }
            return records
        }

        // MARK: Deadlines

        /// When something is next due for this observation: the earliest of the error, the end
        /// of pmin for a pending change, the end of pmax, a deferred evaluation at the end of
        /// epmin, and the next epmax sample.
        var deadline: Instant? {
            if failed { return lastSent }
            var candidates: [Instant] = []
            if pending { candidates.append(lastSent + .seconds(attributes.pmin ?? 0)) }
            if let pmax = attributes.effectivePmax { candidates.append(lastSent + .seconds(pmax)) }
            if deferredChange { candidates.append(lastEvaluated + .seconds(attributes.epmin ?? 0)) }
            if let epmax = effectiveEpmax { candidates.append(lastEvaluated + .seconds(epmax)) }
            return candidates.min()
        }

        /// epmax when it is usable: greater than epmin (0 when absent).
        var effectiveEpmax: Int? {
            guard let epmax = attributes.epmax, epmax > (attributes.epmin ?? 0) else { return nil }
            return epmax
        }

        /// Whether a notification (or the error ending the observation) is to be sent `now`.
        func isDue(at now: Instant) -> Bool {
            if failed { return true }
            if pending, lastSent + .seconds(attributes.pmin ?? 0) <= now { return true }
            if let pmax = attributes.effectivePmax, lastSent + .seconds(pmax) <= now { return true }
            return false
        }

        // MARK: Evaluation

        /// The object reported a change at or around the path: evaluate it now, or when epmin
        /// has passed since the last evaluation.
        mutating func changeReported(source: Source, at now: Instant) {
            guard !failed else { return }
            if let epmin = attributes.epmin, now < lastEvaluated + .seconds(epmin) {
                deferredChange = true
                return
            }
            evaluate(source: source, changed: true, at: now)
        }

        /// Runs the evaluations that have come due: a deferred change, or an epmax sample.
        mutating func evaluateIfDue(source: Source, at now: Instant) {
            guard !failed else { return }
            if deferredChange, lastEvaluated + .seconds(attributes.epmin ?? 0) <= now {
                evaluate(source: source, changed: true, at: now)
            } else if let epmax = effectiveEpmax, lastEvaluated + .seconds(epmax) <= now {
                evaluate(source: source, changed: false, at: now)
            }
        }

        /// Reads the path and decides whether it is worth a notification. A reported change
        /// counts even if the content reads the same; a sample (`changed` false) only when the
        /// content differs from the last one sent. An unreadable path is due at once (its error).
        mutating func evaluate(source: Source, changed: Bool, at now: Instant) {
            lastEvaluated = now
            deferredChange = false
            guard let records = try? records(source) else {
                failed = true
                return
            }
            guard changed || records != lastRecords else { return }
            if !pending { pending = isNotifiable(records) }
        }

        /// Whether content `records` passes the gt / lt / st conditions against the last sent.
        /// On a multi-instance resource the conditions apply to each resource instance: one
        /// instance crossing gt or lt or moving by st, or an instance added or removed, is
        /// enough.
        func isNotifiable(_ records: [LwM2MRecord]) -> Bool {
            guard attributes.hasNumericConditions, !isComposite, let current = Self.numericValues(records, at: path),
                  let last = lastRecords.flatMap({ Self.numericValues($0, at: path) }) else { return true }
            guard current.count == last.count else { return true }
            for (valuePath, value) in current {
                guard let old = last[valuePath] else { return true }
                if let gt = attributes.gt, (old > gt) != (value > gt) { return true }
                if let lt = attributes.lt, (old < lt) != (value < lt) { return true }
                if let st = attributes.st, abs(value - old) >= st { return true }
            }
            return false
        }

        // MARK: Sending

        /// The notification carrying the path's current content in the registration's format;
        /// records it as sent `now`. Throws the read error (the observation then ends).
        mutating func notification(source: Source, at now: Instant) throws(LwM2MError) -> CoAPResponse {
            let records = try records(source)
            let payload: [UInt8]
            if isComposite {
                payload = try RequestHandler.encodeComposite(records, format: format)
            } else {
                do throws(ContentFormatError) {
                    payload = try PayloadCodec.encode(records, base: path, format: format)
                } catch {
                    throw .internalError("cannot encode \(path): \(error)")
                }
            }
            lastSent = now
            lastEvaluated = now
            lastRecords = records
            pending = false
            deferredChange = false
            failed = false
            return CoAPResponse(.content, contentFormat: format, payload: payload)
        }

        /// The numeric values of `records` read at `path` (a resource or a resource instance)
        /// by path, if they all are numbers; nil otherwise (an object or instance, text …).
        static func numericValues(_ records: [LwM2MRecord], at path: LwM2MPath) -> [LwM2MPath: Double]? {
            guard path.depth >= 3 else { return nil }
            var values: [LwM2MPath: Double] = [:]
            for record in records {
                guard let value = record.value.numericValue else { return nil }
                values[record.path] = value
            }
            return values
        }
    }
}
