import Time

/// What a ``DigitalInputObject`` keeps for one instance: its line, the reported State and
/// Counter, the settings a server may write and the debounce timer.
struct InputChannel {
    let line: any DigitalLine
    /// The board's settings: what a Write-Replace that leaves a resource out goes back to.
    let board: DigitalInputObject.Input
    /// Application Type (5750): the board's, or a server's write.
    var applicationType: String?
    /// The State (5500) as last reported: logical level XOR polarity.
    var state: Bool
    /// The Counter (5501), stopping at `Int64.max`.
    var counter: Int64 = 0
    /// Polarity (5502): true reverses the State.
    var polarity = false
    /// Debounce (5503), 0...60000 ms.
    var debounceMilliseconds: Int64
    /// Edge Selection (5504).
    var edgeSelection: EdgeSelection
    /// When the running debounce period ends (the last edge + the period), nil: none running.
    var deadline: Instant?

    /// The instance for `input`, its State read from the line (false when the read fails). A
    /// push button always counts rising transitions.
    init(_ input: DigitalInputObject.Input, pushButton: Bool) {
        line = input.line
        board = input
        applicationType = input.applicationType
        state = (try? input.line.level()) ?? false
        debounceMilliseconds = Self.milliseconds(input.debounce)
        edgeSelection = pushButton ? .rising : input.edgeSelection
    }

    /// `debounce` in whole milliseconds, clamped to 0...60000.
    static func milliseconds(_ debounce: Duration) -> Int64 {
        min(max(0, debounce.nanosecondsClamped) / 1_000_000, DigitalInputObject.maximumDebounceMilliseconds)
    }

    /// The debounce period.
    var debounce: Duration { .milliseconds(debounceMilliseconds) }

    /// Takes the line's logical `level` as the new truth: when the State it gives differs from
    /// the reported one, that is one transition. Returns the resources that changed (State,
    /// and Counter when Edge Selection counts the transition).
    mutating func settle(at level: Bool) -> [UInt16] {
        let newState = level != polarity
        guard newState != state else { return [] }
        state = newState
        guard edgeSelection.counts(transitionTo: newState), counter < .max else {
            return [DigitalInputObject.Resource.state]
        }
        counter += 1
        return [DigitalInputObject.Resource.state, DigitalInputObject.Resource.counter]
    }
}
