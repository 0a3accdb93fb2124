/// An object whose values come from outside the agent (the kernel's clock, memory, sensors,
/// network) and so change without any request. While something observes it, the outer layer
/// calls `sample(now:)` on a timer (`SamplingSchedule`); the object reads its sources and
/// reports through `changeHandler` each resource whose value differs from the previous sample,
/// which is what lets the reporting engine evaluate `pmin`/`pmax`/`gt`/`lt`/`st` on real
/// changes. While nothing observes it, it is not sampled: a Read still reads its sources.
public protocol SampledObject: LwM2MObject {
    /// Reads the sources and calls `changeHandler` for every resource that changed since the
    /// last call. `now` is the current wall-clock time in seconds since the Unix epoch (for
    /// objects that report time), taken once per sampling round by the caller.
    func sample(now: Int64)

    /// The first round after a pause (nothing observed the object, so nothing sampled it):
    /// the values found become the reference for the next round. An object that compares with
    /// its previous *sample* (not its last Read) reports nothing here, since what changed during
    /// the pause is already in the content the new observation's response carried. The
    /// default samples as usual (objects that compare with their last Read, which the new
    /// observation's response refreshed).
    func resumeSampling(now: Int64)
}

extension SampledObject {
    public func resumeSampling(now: Int64) { sample(now: now) }
}
