import CGPIOD
import Time
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One line requested from the kernel through libgpiod v1. The request holds until `release()`
/// or deinit (which close the chip too). Levels are logical: the kernel applies active-low.
/// Not thread-safe: the agent's one poll loop owns it.
public final class GPIOLine {
    /// The line's name as configured.
    public let name: String
    /// gpiochipN.
    public let chipName: String
    public let chipLabel: String
    public let offset: UInt32
    /// How it was requested.
    public let configuration: GPIOLineConfiguration

    private var chip: OpaquePointer?
    private var line: OpaquePointer?
    /// The libgpiod functions (loaded by the lookup that found the line).
    private let gpiod: UnsafePointer<cgpiod_api>

    private init(_ found: GPIOChips.Located, configuration: GPIOLineConfiguration) {
        chip = found.chip
        line = found.line
        gpiod = found.gpiod
        self.configuration = configuration
        name = configuration.line
        chipName = GPIOChips.string(cgpiod_chip_name(gpiod, found.chip))
        chipLabel = GPIOChips.string(cgpiod_chip_label(gpiod, found.chip))
        offset = cgpiod_line_offset(gpiod, found.line)
    }

    deinit { release() }

    /// Finds the line (see `GPIOChips.find`) and requests it for `consumer` (the label other
    /// processes see in gpioinfo). An input with edge events gets a non-blocking event descriptor.
    /// The first request of the process loads libgpiod (`.libraryUnavailable` when it cannot).
    public static func request(_ configuration: GPIOLineConfiguration, consumer: String,
                               devices: String = "/dev") throws(GPIOError) -> GPIOLine {
        let found = try GPIOChips.locate(line: configuration.line, chip: configuration.chip, devices: devices)
        let (type, flags) = configuration.request
        let result = consumer.withCString { label in
            var request = gpiod_line_request_config(consumer: label, request_type: type, flags: flags)
            return cgpiod_line_request(found.gpiod, found.line, &request, configuration.initialValue)
        }
        if result != 0 {
            let code = errno
            let error = requestError(code, found, configuration: configuration)
            cgpiod_chip_close(found.gpiod, found.chip)
            throw error
        }
        let requested = GPIOLine(found, configuration: configuration)
        if let descriptor = requested.eventFileDescriptor {
            let current = fcntl(descriptor, F_GETFL)
            if current < 0 || fcntl(descriptor, F_SETFL, current | O_NONBLOCK) < 0 {
                let code = errno
                requested.release()
                throw .system(operation: "fcntl O_NONBLOCK", line: configuration.line, errno: code)
            }
        }
        return requested
    }

    /// The error for a request the kernel refused with `code`.
    private static func requestError(_ code: Int32, _ found: GPIOChips.Located,
                                     configuration: GPIOLineConfiguration) -> GPIOError {
        switch code {
        case EBUSY:
            // Re-read the line's info for the consumer holding it (a process's label, a hog's name).
            _ = cgpiod_line_update(found.gpiod, found.line)
            return .lineBusy(line: configuration.line, consumer: GPIOChips.consumer(of: found.line, found.gpiod))
        case EACCES, EPERM:
            return .permissionDenied(GPIOChips.string(cgpiod_chip_name(found.gpiod, cgpiod_line_get_chip(found.gpiod, found.line))))
        case EINVAL where configuration.bias != .asIs, EOPNOTSUPP where configuration.bias != .asIs:
            return .unsupported(line: configuration.line, what: "bias \(configuration.bias)")
        default:
            return .system(operation: "request", line: configuration.line, errno: code)
        }
    }

    /// The line's logical level.
    public func level() throws(GPIOError) -> Bool {
        guard let line else { throw .system(operation: "read", line: name, errno: EBADF) }
        let value = cgpiod_line_get_value(gpiod, line)
        if value < 0 { throw .system(operation: "read", line: name, errno: errno) }
        return value != 0
    }

    /// Drives an output line to the logical `level`; an input throws `unsupported`.
    public func setLevel(_ level: Bool) throws(GPIOError) {
        guard case .output = configuration.direction else {
            throw .unsupported(line: name, what: "driving an input line")
        }
        guard let line else { throw .system(operation: "set", line: name, errno: EBADF) }
        if cgpiod_line_set_value(gpiod, line, level ? 1 : 0) != 0 {
            throw .system(operation: "set", line: name, errno: errno)
        }
    }

    /// The descriptor to poll (POLLIN) for edge events: inputs requested with edge events, while
    /// requested. Non-blocking.
    public var eventFileDescriptor: Int32? {
        guard let line, case .input(edgeEvents: true) = configuration.direction else { return nil }
        let descriptor = cgpiod_line_event_get_fd(gpiod, line)
        return descriptor >= 0 ? descriptor : nil
    }

    /// The events queued now, oldest first; empty when none. Never blocks.
    public func readEvents() throws(GPIOError) -> [GPIOEdgeEvent] {
        guard let descriptor = eventFileDescriptor else { return [] }
        var events: [GPIOEdgeEvent] = []
        var buffer = [gpiod_line_event](repeating: gpiod_line_event(), count: 16)
        while true {
            let count = cgpiod_line_event_read_fd_multiple(gpiod, descriptor, &buffer, UInt32(buffer.count))
            if count < 0 {
                let code = errno
                if code == EAGAIN || code == EWOULDBLOCK { return events }
                if code == EINTR { continue }
                throw .system(operation: "read events", line: name, errno: code)
            }
            if count == 0 { return events }
            for event in buffer.prefix(Int(count)) {
                // tv_sec is 32 bits on armv7 glibc: widen before multiplying.
                let nanoseconds = Int64(event.ts.tv_sec) * 1_000_000_000 + Int64(event.ts.tv_nsec)
                events.append(GPIOEdgeEvent(rising: event.event_type == Int32(GPIOD_LINE_EVENT_RISING_EDGE),
                                            timestamp: Instant(nanoseconds: nanoseconds)))
            }
            if Int(count) < buffer.count { return events }
        }
    }

    /// Gives the line back to the kernel and closes the chip; later calls throw. Idempotent.
    public func release() {
        if let line { cgpiod_line_release(gpiod, line) }
        if let chip { cgpiod_chip_close(gpiod, chip) }
        line = nil
        chip = nil
    }
}
