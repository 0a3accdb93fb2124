import AgentCommon
import Files
import LwM2M
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An LED of the kernel's LED class (Documentation/ABI/testing/sysfs-class-led):
/// `/sys/class/leds/NAME/max_brightness` (read once) and `brightness` (read and written as a
/// decimal number). Writing `brightness` also stops the LED's trigger (the kernel's rule).
public final class SysfsLED: LightDriver {
    /// The LED's directory as on the board (`/sys/class/leds/status`).
    public let path: String
    public let maximumBrightness: Int
    private let root: SystemRoot

    /// The LED at `path` (a `/sys/class/leds/NAME` directory) under `root`; throws when the LED
    /// is absent or its `max_brightness` is not a number ≥ 1.
    public init(path: String, root: SystemRoot = .live) throws(HardwareAccessError) {
        var directory = path
        while directory.count > 1, directory.hasSuffix("/") { directory.removeLast() }
        self.path = directory
        self.root = root
        guard root.exists(directory) else { throw HardwareAccessError("LED \(directory) not found") }
        let maximum = directory + "/max_brightness"
        guard let value = root.integer(maximum), value >= 1, value <= Int64(Int32.max) else {
            throw HardwareAccessError("LED \(directory): \(maximum) is missing or not a brightness ≥ 1")
        }
        maximumBrightness = Int(value)
    }

    /// The LED `name` of /sys/class/leds.
    public convenience init(name: String, root: SystemRoot = .live) throws(HardwareAccessError) {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw HardwareAccessError("LED name \(name) is not a /sys/class/leds entry")
        }
        try self.init(path: "/sys/class/leds/" + name, root: root)
    }

    public func brightness() throws(HardwareAccessError) -> Int {
        let file = path + "/brightness"
        let bytes: [UInt8]
        do { bytes = try root.bytes(file) } catch { throw HardwareAccessError("LED \(path): \(error)") }
        let text = String(decoding: bytes, as: UTF8.self).trimmingSpaces()
        guard let value = Int(text.split(separator: "\n").first ?? ""), value >= 0 else {
            throw HardwareAccessError("LED \(path): \(file) holds no brightness")
        }
        return min(value, maximumBrightness)
    }

    public func setBrightness(_ level: Int) throws(HardwareAccessError) {
        let file = path + "/brightness"
        let clamped = max(0, min(level, maximumBrightness))
        let bytes = Array("\(clamped)\n".utf8)
        // A sysfs attribute: written in place (no temporary file and rename), one write.
        let descriptor = open(root.path(file), O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.writeError(file, errno) }
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if written != bytes.count { throw Self.writeError(file, written < 0 ? errno : EIO) }
    }

    private static func writeError(_ file: String, _ code: Int32) -> HardwareAccessError {
        let reason = String(cString: strerror(code))
        let hint = code == EACCES || code == EPERM ? " (the agent needs write access to it)" : ""
        return HardwareAccessError("cannot write LED brightness \(file): \(reason)\(hint)")
    }
}
