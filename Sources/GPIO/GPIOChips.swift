import CGPIOD
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The machine's GPIO chips (`/dev/gpiochipN`, the GPIO character devices) and the search for
/// a line by name. `devices` is "/dev" on a board; tests pass a directory of their own.
public enum GPIOChips {
    /// One chip as `list` reports it.
    public struct Chip: Sendable, Equatable {
        /// gpiochipN.
        public var name: String
        public var label: String
        public var lines: Int
    }

    /// The chips this process can open, in gpiochipN order (chips it may not open are left out).
    /// Throws only `.libraryUnavailable` (libgpiod is loaded here when nothing loaded it before).
    public static func list(devices: String = "/dev") throws(GPIOError) -> [Chip] {
        let gpiod = try GPIODLibrary.functions()
        return chipPaths(devices).compactMap { path in
            guard let chip = cgpiod_chip_open(gpiod, path) else { return nil }
            defer { cgpiod_chip_close(gpiod, chip) }
            return Chip(name: string(cgpiod_chip_name(gpiod, chip)), label: string(cgpiod_chip_label(gpiod, chip)),
                        lines: Int(cgpiod_chip_num_lines(gpiod, chip)))
        }
    }

    /// Where the line `line` is (on `chip` when given: label, gpiochipN, number or /dev path)
    /// and who uses it now. Opens nothing that stays open.
    public static func find(line: String, chip: String?, devices: String = "/dev") throws(GPIOError) -> GPIOLineInfo {
        let found = try locate(line: line, chip: chip, devices: devices)
        let gpiod = found.gpiod
        defer { cgpiod_chip_close(gpiod, found.chip) }
        return GPIOLineInfo(chipName: string(cgpiod_chip_name(gpiod, found.chip)),
                            chipLabel: string(cgpiod_chip_label(gpiod, found.chip)),
                            offset: cgpiod_line_offset(gpiod, found.line), name: line,
                            consumer: consumer(of: found.line, gpiod),
                            isUsed: cgpiod_line_is_used(gpiod, found.line),
                            isOutput: cgpiod_line_direction(gpiod, found.line) == Int32(GPIOD_LINE_DIRECTION_OUTPUT),
                            isActiveLow: cgpiod_line_active_state(gpiod, found.line) == Int32(GPIOD_LINE_ACTIVE_STATE_LOW))
    }

    // MARK: Internals shared with GPIOLine

    /// A line found on an open chip, with the libgpiod functions that opened it.
    typealias Located = (chip: OpaquePointer, line: OpaquePointer, gpiod: UnsafePointer<cgpiod_api>)

    /// The open chip holding `line` and the line's handle; the caller closes the chip (which
    /// frees the line handle). Every error path closes what it opened. Loads libgpiod on the
    /// first call (`.libraryUnavailable` when it cannot).
    static func locate(line: String, chip: String?, devices: String) throws(GPIOError) -> Located {
        let gpiod = try GPIODLibrary.functions()
        if let chip {
            let handle = try open(chip: chip, devices: devices, gpiod)
            errno = 0
            if let found = cgpiod_chip_find_line(gpiod, handle, line) { return (handle, found, gpiod) }
            let code = errno
            cgpiod_chip_close(gpiod, handle)
            if code == ENOENT || code == 0 { throw .lineNotFound(line: line, chip: chip) }
            throw .system(operation: "line lookup", line: line, errno: code)
        }
        var denied: String?
        for path in chipPaths(devices) {
            guard let handle = cgpiod_chip_open(gpiod, path) else {
                if errno == EACCES || errno == EPERM { denied = denied ?? path }
                continue
            }
            if let found = cgpiod_chip_find_line(gpiod, handle, line) { return (handle, found, gpiod) }
            cgpiod_chip_close(gpiod, handle)
        }
        // A chip we may not open could hold the line: say so rather than "not found".
        if let denied { throw .permissionDenied(denied) }
        throw .lineNotFound(line: line, chip: nil)
    }

    /// Opens the chip `chip` names: a path (starts with "/"), a number, gpiochipN, or a label.
    static func open(chip: String, devices: String, _ gpiod: UnsafePointer<cgpiod_api>) throws(GPIOError) -> OpaquePointer {
        var path: String?
        if chip.hasPrefix("/") {
            path = chip
        } else if !chip.isEmpty, chip.utf8.allSatisfy({ (0x30...0x39).contains($0) }) {
            path = devices + "/gpiochip" + chip
        } else if chip.hasPrefix("gpiochip"), access(devices + "/" + chip, F_OK) == 0 {
            path = devices + "/" + chip
        }
        if let path {
            guard let handle = cgpiod_chip_open(gpiod, path) else { throw GPIOError.openingChip(path, named: chip, errno: errno) }
            return handle
        }
        var denied: String?
        for candidate in chipPaths(devices) {
            guard let handle = cgpiod_chip_open(gpiod, candidate) else {
                if errno == EACCES || errno == EPERM { denied = denied ?? candidate }
                continue
            }
            if string(cgpiod_chip_label(gpiod, handle)) == chip { return handle }
            cgpiod_chip_close(gpiod, handle)
        }
        if let denied { throw .permissionDenied(denied) }
        throw .chipNotFound(chip)
    }

    /// `devices`/gpiochipN entries, by N.
    static func chipPaths(_ devices: String) -> [String] {
        guard let directory = opendir(devices) else { return [] }
        defer { closedir(directory) }
        var numbered: [(Int, String)] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            guard name.hasPrefix("gpiochip"), let number = Int(name.dropFirst(8)) else { continue }
            numbered.append((number, devices + "/" + name))
        }
        return numbered.sorted { $0.0 < $1.0 }.map(\.1)
    }

    static func string(_ text: UnsafePointer<CChar>?) -> String {
        text.map { String(cString: $0) } ?? ""
    }

    /// The kernel's consumer label of `line` as libgpiod last read it; nil when it has none.
    static func consumer(of line: OpaquePointer, _ gpiod: UnsafePointer<cgpiod_api>) -> String? {
        let label = string(cgpiod_line_consumer(gpiod, line))
        return label.isEmpty ? nil : label
    }
}
