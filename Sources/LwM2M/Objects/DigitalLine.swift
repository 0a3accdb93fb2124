/// A hardware failure reading or driving a line or an LED (the kernel refused, the device went
/// away). The object answers the request with 5.00 and this text; the agent goes on.
public struct HardwareAccessError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What failed, for the log and the diagnostic payload (`set RELAY1: EIO`).
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// One digital line as the IPSO Digital Input/Output, Push Button and Light Control objects see
/// it: a logical level (the kernel already applied the board's active-low). The outer layer
/// implements it over a requested GPIO line (libgpiod); tests use a fake that mirrors the GPIO
/// character device.
public protocol DigitalLine: AnyObject {
    /// The line's current logical level.
    func level() throws(HardwareAccessError) -> Bool
    /// Drives an output line to `level` (logical). Inputs throw.
    func setLevel(_ level: Bool) throws(HardwareAccessError)
}

/// An LED as Light Control (3311) drives it: a brightness from 0 (off) to `maximumBrightness`
/// (1 for an LED on a GPIO line or a sysfs LED without levels).
public protocol LightDriver: AnyObject {
    /// The brightest level (≥ 1); more than 1 means the LED can be dimmed.
    var maximumBrightness: Int { get }
    /// The current brightness, 0...maximumBrightness.
    func brightness() throws(HardwareAccessError) -> Int
    /// Sets the brightness (clamped by the caller to 0...maximumBrightness).
    func setBrightness(_ level: Int) throws(HardwareAccessError)
}
