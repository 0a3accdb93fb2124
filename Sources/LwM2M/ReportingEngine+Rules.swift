import CoAP

// The per-observation state of `ReportingEngine` and the TS 1.1 §5.1.2 rules deciding when a
// notification is due.

extension ReportingEngine {
    /// One observation: its path and format, what was last sent and when, and what is waiting.
    struct Entry: Sendable {
        let path: LwM2MPath
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

        init(path: LwM2MPath, format: UInt16, records: [LwM2MRecord]?, attributes: NotificationAttributes,
             at now: Instant) {
            self.path = path
            self.format = format
            self.attributes = attributes
            lastSent = now
            lastRecords = records
            lastEvaluated = now
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
        mutating func changeReported(registry: ObjectRegistry, at now: Instant) {
            guard !failed else { return }
            if let epmin = attributes.epmin, now < lastEvaluated + .seconds(epmin) {
                deferredChange = true
                return
            }
            evaluate(registry: registry, changed: true, at: now)
        }

        /// Runs the evaluations that have come due: a deferred change, or an epmax sample.
        mutating func evaluateIfDue(registry: ObjectRegistry, at now: Instant) {
            guard !failed else { return }
            if deferredChange, lastEvaluated + .seconds(attributes.epmin ?? 0) <= now {
                evaluate(registry: registry, changed: true, at: now)
            } else if let epmax = effectiveEpmax, lastEvaluated + .seconds(epmax) <= now {
                evaluate(registry: registry, changed: false, at: now)
            }
        }

        /// Reads the path and decides whether it is worth a notification. A reported change
        /// counts even if the content reads the same; a sample (`changed` false) only when the
        /// content differs from the last one sent. An unreadable path is due at once (its error).
        mutating func evaluate(registry: ObjectRegistry, changed: Bool, at now: Instant) {
            lastEvaluated = now
            deferredChange = false
            guard let records = try? registry.records(at: path) else {
                failed = true
                return
            }
            guard changed || records != lastRecords else { return }
            if !pending { pending = isNotifiable(records) }
        }

        /// Whether content `records` passes the gt / lt / st conditions against the last sent.
        func isNotifiable(_ records: [LwM2MRecord]) -> Bool {
            guard attributes.hasNumericConditions, let current = Self.numericValue(records, at: path),
                  let last = lastRecords.flatMap({ Self.numericValue($0, at: path) }) else { return true }
            if let gt = attributes.gt, (last > gt) != (current > gt) { return true }
            if let lt = attributes.lt, (last < lt) != (current < lt) { return true }
            if let st = attributes.st, abs(current - last) >= st { return true }
            return false
        }

        // MARK: Sending

        /// The notification carrying the path's current content in the registration's format;
        /// records it as sent `now`. Throws the read error (the observation then ends).
        mutating func notification(registry: ObjectRegistry, at now: Instant) throws(LwM2MError) -> CoAPResponse {
            let records = try registry.records(at: path)
            let payload: [UInt8]
            do throws(ContentFormatError) {
                payload = try PayloadCodec.encode(records, base: path, format: format)
            } catch {
                throw .internalError("cannot encode \(path): \(error)")
            }
            lastSent = now
            lastEvaluated = now
            lastRecords = records
            pending = false
            deferredChange = false
            failed = false
            return CoAPResponse(.content, contentFormat: format, payload: payload)
        }

        /// The one numeric value of `records` read at `path` (a single-instance resource or a
        /// resource instance), if that is what they are.
        static func numericValue(_ records: [LwM2MRecord], at path: LwM2MPath) -> Double? {
            guard path.depth >= 3, records.count == 1, records[0].path == path else { return nil }
            return records[0].value.numericValue
        }
    }
}
