import CGPIOD

/// How a line is requested: which line (by name, optionally on one chip), its direction, and
/// the flags the kernel applies (active-low, bias).
public struct GPIOLineConfiguration: Sendable, Equatable {
    /// Input (with or without edge events) or output (with its initial logical level).
    public enum Direction: Sendable, Equatable {
        case input(edgeEvents: Bool)
        case output(initial: Bool)
    }

    /// The line's pull resistor; `asIs` leaves the kernel's setting (works on every kernel).
    public enum Bias: Sendable, Equatable {
        case asIs, disable, pullUp, pullDown
    }

    /// The line's name (gpio-line-names).
    public var line: String
    /// The chip's label, gpiochipN name, number or /dev path; nil searches every chip.
    public var chip: String?
    public var direction: Direction
    /// Levels are logical: the kernel inverts them for an active-low line.
    public var activeLow = false
    public var bias = Bias.asIs

    public init(line: String, chip: String? = nil, direction: Direction) {
        self.line = line
        self.chip = chip
        self.direction = direction
    }

    /// libgpiod v1's request type and flags for this configuration.
    public var request: (type: Int32, flags: Int32) {
        let type: Int32
        switch direction {
        case .input(edgeEvents: false): type = Int32(GPIOD_LINE_REQUEST_DIRECTION_INPUT)
        case .input(edgeEvents: true): type = Int32(GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES)
        case .output: type = Int32(GPIOD_LINE_REQUEST_DIRECTION_OUTPUT)
        }
        var flags: Int32 = 0
        if activeLow { flags |= Int32(GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) }
        switch bias {
        case .asIs: break
        case .disable: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE)
        case .pullUp: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP)
        case .pullDown: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN)
        }
        return (type, flags)
    }

    /// The initial value passed with the request (logical; only outputs use it).
    var initialValue: Int32 {
        if case .output(initial: true) = direction { return 1 }
        return 0
    }
}
