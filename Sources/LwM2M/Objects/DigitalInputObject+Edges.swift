import Time

// Edge events and the debounce timers of the Digital Input and Push Button objects.

extension DigitalInputObject {
    /// One call per kernel edge event of instance `instance`, in order: `level` is the line's
    /// logical level after the edge, `now` the loop's time. With a debounce period the edge
    /// (re)starts the timer (the level is read when it expires); without one the edge is a
    /// transition by itself, reported at once (ignored when the State stays as it is). Events
    /// for an unknown instance are ignored.
    public func lineChanged(_ instance: UInt16, to level: Bool, at now: Instant) {
        let index = Int(instance)
        guard index < channels.count else { return }
        if channels[index].debounceMilliseconds > 0 {
            channels[index].deadline = now + channels[index].debounce
        } else {
            channels[index].deadline = nil  // a period written down to 0 ends with this edge
            report(index, channels[index].settle(at: level))
        }
    }

    /// The end of the earliest running debounce period, nil when none runs.
    public var nextDeadline: Instant? {
        channels.lazy.compactMap(\.deadline).min()
    }

    /// Ends the debounce periods due at `now`: each line is read, and a State different from
    /// the reported one is one transition. A line failing to read keeps its State (no report)
    /// until its next edge.
    public func advance(to now: Instant) {
        for index in channels.indices {
            guard let deadline = channels[index].deadline, deadline <= now else { continue }
            channels[index].deadline = nil
            guard let level = try? channels[index].line.level() else { continue }
            report(index, channels[index].settle(at: level))
        }
    }
}
