import CoAP  // Instant, Duration arithmetic (Time re-exported)
@testable import LwM2M

/// A GPIO chip as the Linux character device shows it to libgpiod, for the IPSO object tests:
///
/// - each line has a physical level; a line is requested once (a second request is EBUSY),
///   as an input with edge detection or as an output driven to an initial value;
/// - levels are logical: a line requested active-low reads and is driven inverted, and its edge
///   events are logical too (rising = the logical level went to 1), as the kernel reports them;
/// - only an input can be set by the "world" (`setInput`), and only a change of level makes an
///   edge event, queued with its timestamp until read (`readEvents`), like the line's event fd;
/// - `setLevel` on an input throws (EPERM), as the kernel refuses to drive an input;
/// - `failure` on a line makes every read and write of it throw (the device went away: EIO).
final class FakeGPIOChip {
    enum Direction { case input, output }

    /// One edge event as `gpiod_line_event_read` gives it: the line, the direction, the time.
    struct EdgeEvent: Equatable {
        let offset: Int
        let rising: Bool
        let timestamp: Instant
    }

    /// A requested line.
    final class Line: DigitalLine {
        unowned let chip: FakeGPIOChip
        let offset: Int
        let direction: Direction
        let activeLow: Bool
        /// When set, every `level()` and `setLevel` throws it.
        var failure: HardwareAccessError?
        private(set) var reads = 0
        private(set) var writes: [Bool] = []

        init(chip: FakeGPIOChip, offset: Int, direction: Direction, activeLow: Bool) {
            self.chip = chip
            self.offset = offset
            self.direction = direction
            self.activeLow = activeLow
        }

        func level() throws(HardwareAccessError) -> Bool {
            reads += 1
            if let failure { throw failure }
            return chip.physical[offset] != activeLow
        }

        func setLevel(_ level: Bool) throws(HardwareAccessError) {
            if let failure { throw failure }
            guard direction == .output else { throw HardwareAccessError("set line \(offset): EPERM (an input)") }
            writes.append(level)
            chip.physical[offset] = level != activeLow
        }
    }

    /// The physical level of each line (what a multimeter shows).
    private(set) var physical: [Bool]
    private var requested: [Int: Line] = [:]
    private var pending: [EdgeEvent] = []

    init(lines: Int) { physical = Array(repeating: false, count: lines) }

    /// Requests `offset` as an input with edge detection on both edges.
    func requestInput(_ offset: Int, activeLow: Bool = false) throws(HardwareAccessError) -> Line {
        try request(offset, .input, activeLow: activeLow)
    }

    /// Requests `offset` as an output, driven to the logical `initial` level.
    func requestOutput(_ offset: Int, initial: Bool, activeLow: Bool = false) throws(HardwareAccessError) -> Line {
        let line = try request(offset, .output, activeLow: activeLow)
        physical[offset] = initial != activeLow
        return line
    }

    private func request(_ offset: Int, _ direction: Direction, activeLow: Bool) throws(HardwareAccessError) -> Line {
        guard physical.indices.contains(offset) else { throw HardwareAccessError("line \(offset): EINVAL") }
        guard requested[offset] == nil else { throw HardwareAccessError("line \(offset): EBUSY") }
        let line = Line(chip: self, offset: offset, direction: direction, activeLow: activeLow)
        requested[offset] = line
        return line
    }

    /// The world (a contact, a button, gpio-sim's pull) sets the physical level of input
    /// `offset` at `time`; a change is an edge event of a requested input.
    func setInput(_ offset: Int, physical level: Bool, at time: Instant) {
        precondition(requested[offset]?.direction != .output, "the world cannot drive an output")
        guard physical[offset] != level else { return }
        physical[offset] = level
        if let line = requested[offset] {
            pending.append(EdgeEvent(offset: offset, rising: level != line.activeLow, timestamp: time))
        }
    }

    /// A bouncing contact: `edges` changes of input `offset`'s physical level, `spacing` apart
    /// from `start`, ending at `level` (an odd count when `level` differs from the current one).
    func bounce(_ offset: Int, to level: Bool, edges: Int, from start: Instant,
                spacing: Duration = .microseconds(700)) {
        precondition((physical[offset] != level) == (edges % 2 == 1), "edge count must end at the level")
        var time = start
        for _ in 0..<edges {
            setInput(offset, physical: !physical[offset], at: time)
            time += spacing
        }
    }

    /// The queued edge events, oldest first (reading the event fd empties it).
    func readEvents() -> [EdgeEvent] {
        defer { pending = [] }
        return pending
    }
}

/// An LED as a `/sys/class/leds` LED (or a GPIO line with maximum 1) shows it.
final class FakeLED: LightDriver {
    let maximumBrightness: Int
    private(set) var level: Int
    /// Every brightness set, in order.
    private(set) var history: [Int] = []
    /// When set, `brightness()` and `setBrightness` throw it.
    var failure: HardwareAccessError?

    init(maximum: Int, level: Int = 0) {
        maximumBrightness = maximum
        self.level = level
    }

    func brightness() throws(HardwareAccessError) -> Int {
        if let failure { throw failure }
        return level
    }

    func setBrightness(_ level: Int) throws(HardwareAccessError) {
        if let failure { throw failure }
        precondition((0...maximumBrightness).contains(level), "brightness out of range")
        history.append(level)
        self.level = level
    }
}

/// A virtual monotonic clock for the objects' `now` and `clock` parameters.
final class VirtualClock {
    var now: Instant

    init(_ now: Instant = Instant(nanoseconds: 1_000_000_000)) { self.now = now }

    func advance(_ duration: Duration) { now += duration }
}

extension DigitalInputObject {
    /// Hands the chip's queued edge events to the instances their lines back (`instances`:
    /// line offset → instance), as the daemon's loop does when an event fd is readable.
    func deliver(_ chip: FakeGPIOChip, instances: [Int: UInt16]) {
        for event in chip.readEvents() {
            guard let instance = instances[event.offset] else { continue }
            lineChanged(instance, to: event.rising, at: event.timestamp)
        }
    }
}
