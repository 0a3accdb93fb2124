import GPIO
import LwM2M

extension HardwareAccessError {
    /// The GPIO layer's error as the IPSO objects report it (5.00 with this text).
    public init(_ error: GPIOError) { self.init(error.description) }
}

/// A requested GPIO line as the Digital Input/Output and Push Button objects see it.
/// (`GPIOLine` cannot conform to `DigitalLine` itself: its methods throw `GPIOError`, the
/// protocol's `HardwareAccessError`, and Swift cannot overload on the thrown type.)
public final class GPIODigitalLine: DigitalLine {
    /// The requested line; releasing it makes every call throw.
    public let line: GPIOLine

    public init(_ line: GPIOLine) { self.line = line }

    public func level() throws(HardwareAccessError) -> Bool {
        do { return try line.level() } catch { throw HardwareAccessError(error) }
    }

    public func setLevel(_ level: Bool) throws(HardwareAccessError) {
        do { try line.setLevel(level) } catch { throw HardwareAccessError(error) }
    }
}
