/// An object whose values come from outside the agent (the kernel's clock, memory, sensors,
/// network) and so change without any request. The outer layer calls `sample(now:)` on a timer;
/// the object reads its sources and reports through `changeHandler` each resource whose value
/// differs from the previous sample, which is what lets the reporting engine evaluate
/// `pmin`/`pmax`/`gt`/`lt`/`st` on real changes.
public protocol SampledObject: LwM2MObject {
    /// Reads the sources and calls `changeHandler` for every resource that changed since the
    /// last call. `now` is the current wall-clock time in seconds since the Unix epoch (for
    /// objects that report time), taken once per sampling round by the caller.
    func sample(now: Int64)
}
