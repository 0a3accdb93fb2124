import GPIO
import LwM2M

/// An LED on a requested GPIO output line (`[led NAME] line = …`): on or off, no dimming.
public final class GPIOLineLight: LightDriver {
    /// The requested output line.
    public let line: GPIOLine

    public init(_ line: GPIOLine) { self.line = line }

    public var maximumBrightness: Int { 1 }

    public func brightness() throws(HardwareAccessError) -> Int {
        do { return try line.level() ? 1 : 0 } catch { throw HardwareAccessError(error) }
    }

    public func setBrightness(_ level: Int) throws(HardwareAccessError) {
        do { try line.setLevel(level > 0) } catch { throw HardwareAccessError(error) }
    }
}
