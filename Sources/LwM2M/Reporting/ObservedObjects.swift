/// Which objects a set of observations reads, counted so an observation ending takes its
/// objects out again: `ReportingEngine.isObserving(object:)` answers from it in O(1), without
/// walking the observations (the outer layer asks on every turn of its loop).
///
/// An observation of an object, an instance, a resource or a resource instance counts for its
/// object; one of the root (a composite observation listing `/`) counts for every object.
struct ObservedObjects: Sendable {
    /// Observed paths per object ID (a composite observation listing two paths of one object
    /// counts twice, and is taken out twice).
    private var counts: [UInt16: Int] = [:]
    /// Observed root paths.
    private var roots = 0

    /// Whether anything observes object `id` (or the root).
    func contains(_ id: UInt16) -> Bool {
        roots > 0 || counts[id] != nil
    }

    /// Counts the paths of an observation that starts.
    mutating func add(_ paths: [LwM2MPath]) {
        for path in paths {
            if let id = path.objectID {
                counts[id, default: 0] += 1
            } else {
                roots += 1
            }
        }
    }

    /// Takes out the paths of an observation that ended (each added before).
    mutating func remove(_ paths: [LwM2MPath]) {
        for path in paths {
            guard let id = path.objectID else {
                roots = max(0, roots - 1)
                continue
            }
            guard let count = counts[id] else { continue }
            counts[id] = count > 1 ? count - 1 : nil
        }
    }
}
