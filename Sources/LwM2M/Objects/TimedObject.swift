import Time

/// An object with timers of its own (a Digital Input's debounce period): the outer layer adds
/// ``nextDeadline`` to its poll loop's deadlines and calls ``advance(to:)`` on every wake-up, as
/// it does for the client. Changes found are reported through `changeHandler`.
public protocol TimedObject: LwM2MObject {
    /// When the object next needs ``advance(to:)`` (nil: no timer pending).
    var nextDeadline: Instant? { get }
    /// Runs what is due at `now` (monotonic time of the loop).
    func advance(to now: Instant)
}
