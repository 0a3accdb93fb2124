import Time

/// When the objects whose values change on their own (`SampledObject`: Device, Connectivity
/// Monitoring, Temperature, Light Control's On Time) are sampled: only while something needs
/// their changes, i.e. while an observation reads the object (`isObserved`, from
/// `LwM2MClient.isObserving(object:)`), every `interval`; never otherwise, so an idle agent
/// has no sampling timer at all (issue 17: one wake-up per timer).
///
/// - An object that becomes observed is sampled in the same turn (`resumeSampling(now:)`: the
///   reference for its changes), then with the others every `interval`. A change is therefore
///   seen at most `interval` after it happens, from the observation's registration on.
/// - An object no longer observed is no longer sampled; when none is observed there is no next
///   round (`nextRound` nil) and no deadline to wake the loop for.
///
/// A Read does not depend on sampling: every object reads its sources when read.
/// Sans-IO: the caller passes the monotonic time and the wall clock.
public struct SamplingSchedule {
    /// How often observed objects are sampled.
    public var interval: Duration
    /// The registry's sampled objects, in object-ID order.
    private let objects: [any SampledObject]
    /// Their object IDs (asked on every turn: not through each object's definition).
    private let objectIDs: [UInt16]
    /// Whether each of `objects` was observed (and so sampled) at the last `advance`.
    private var sampling: [Bool]
    /// When the observed objects are sampled next; nil while none is observed.
    public private(set) var nextRound: Instant?
    /// Periodic sampling rounds taken so far (a round samples every observed object; the
    /// resuming sample of an object that just became observed is not counted), for tests.
    public private(set) var rounds = 0

    /// A schedule over the `SampledObject`s registered in `registry` now.
    public init(registry: ObjectRegistry, interval: Duration = .seconds(1)) {
        self.init(objects: registry.objectIDs.compactMap { registry.object($0) as? any SampledObject }, interval: interval)
    }

    /// A schedule over `objects`.
    public init(objects: [any SampledObject], interval: Duration = .seconds(1)) {
        self.objects = objects
        objectIDs = objects.map(\.definition.id)
        self.interval = interval
        sampling = Array(repeating: false, count: objects.count)
    }

    /// The IDs of the objects sampled now (observed at the last `advance`).
    public var sampledObjectIDs: [UInt16] {
        objects.indices.filter { sampling[$0] }.map { objectIDs[$0] }
    }

    /// Follows what is observed `now` and samples what is due: objects that became observed at
    /// once (resuming), every observed object when `nextRound` has come. `wallClock` (seconds
    /// since the Unix epoch) is read once, and only when something is sampled. Call on every
    /// turn of the loop, after the client took in what arrived.
    public mutating func advance(to now: Instant, wallClock: () -> Int64, isObserved: (UInt16) -> Bool) {
        var wall: Int64?
        var anyObserved = false
        var roundDue = nextRound.map { now >= $0 } ?? false
        for index in objects.indices {
            let observed = isObserved(objectIDs[index])
            defer { sampling[index] = observed }
            guard observed else { continue }
            let object = objects[index]
            anyObserved = true
            if !sampling[index] {
                if wall == nil { wall = wallClock() }
                object.resumeSampling(now: wall!)
                if nextRound == nil {
                    nextRound = now + interval
                    roundDue = false
                }
            } else if roundDue {
                if wall == nil { wall = wallClock() }
                object.sample(now: wall!)
            }
        }
        guard anyObserved else {
            nextRound = nil
            return
        }
        if roundDue {
            rounds += 1
            nextRound = now + interval
        }
    }
}
