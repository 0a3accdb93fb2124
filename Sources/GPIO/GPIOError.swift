#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why a GPIO chip or line could not be used. Every case names the chip or line, so one
/// `description` line in the log tells an installer what to fix.
public enum GPIOError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No chip with that label, name (gpiochipN) or path.
    case chipNotFound(String)
    /// No line of that name on that chip (`chip` given) or on any chip (`chip` nil).
    case lineNotFound(line: String, chip: String?)
    /// The line is requested by another consumer or hogged by the kernel (EBUSY); `consumer` is
    /// the kernel's consumer label of the line when it has one.
    case lineBusy(line: String, consumer: String?)
    /// The process may not open the chip device at this path (EACCES/EPERM).
    case permissionDenied(String)
    /// The kernel or the line cannot do what the configuration asks (bias flags on a kernel
    /// without them, driving an input).
    case unsupported(line: String, what: String)
    /// Any other failure of a system call: the operation, the line when known, and errno.
    case system(operation: String, line: String?, errno: Int32)
    /// libgpiod could not be loaded (it is dlopen'ed on the first GPIO use): `dlerror()`'s words,
    /// or the functions the library that loaded lacks.
    case libraryUnavailable(String)

    public var description: String {
        switch self {
        case .chipNotFound(let chip):
            "GPIO chip \(chip) not found (no chip with that label, gpiochipN name or path)"
        case .lineNotFound(let line, let chip?):
            "GPIO line \(line) not found on chip \(chip)"
        case .lineNotFound(let line, nil):
            "GPIO line \(line) not found on any GPIO chip"
        case .lineBusy(let line, let consumer?):
            "GPIO line \(line) is busy: requested by \(consumer)"
        case .lineBusy(let line, nil):
            "GPIO line \(line) is busy: requested by another consumer"
        case .permissionDenied(let path):
            "permission denied opening GPIO chip \(path) (the agent needs read-write access to it)"
        case .unsupported(let line, let what):
            "GPIO line \(line): \(what) is not supported here"
        case .system(let operation, let line?, let code):
            "GPIO \(operation) on line \(line) failed: \(Self.text(code))"
        case .system(let operation, nil, let code):
            "GPIO \(operation) failed: \(Self.text(code))"
        case .libraryUnavailable(let reason):
            "GPIO unavailable: libgpiod cannot be loaded (\(reason)); GPIO lines need the libgpiod2 package"
        }
    }

    /// `strerror(code)`.
    static func text(_ code: Int32) -> String {
        guard let message = strerror(code) else { return "errno \(code)" }
        return String(cString: message)
    }

    /// The error for a chip device that `open` refused with `code`.
    static func openingChip(_ path: String, named chip: String, errno code: Int32) -> GPIOError {
        switch code {
        case EACCES, EPERM: .permissionDenied(path)
        // ENOTTY/ENODEV: libgpiod's answer for a file that is not a GPIO character device.
        case ENOENT, ENOTTY, ENODEV, ENXIO: .chipNotFound(chip)
        default: .system(operation: "open \(path)", line: nil, errno: code)
        }
    }
}
