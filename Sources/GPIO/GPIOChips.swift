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
    public static func list(devices: String = "/dev") -> [Chip] {
        chipPaths(devices).compactMap { path in
            guard let chip = gpiod_chip_open(path) else { return nil }
            defer { gpiod_chip_close(chip) }
            return Chip(name: string(gpiod_chip_name(chip)), label: string(gpiod_chip_label(chip)),
                        lines: Int(gpiod_chip_num_lines(chip)))
        }
    }

    /// Where the line `line` is (on `chip` when given: label, gpiochipN, number or /dev path)
    /// and who uses it now. Opens nothing that stays open.
    public static func find(line: String, chip: String?, devices: String = "/dev") throws(GPIOError) -> GPIOLineInfo {
        let found = try locate(line: line, chip: chip, devices: devices)
        defer { gpiod_chip_close(found.chip) }
        let consumer = gpiod_line_consumer(found.line).map { String(cString: $0) }
        return GPIOLineInfo(chipName: string(gpiod_chip_name(found.chip)), chipLabel: string(gpiod_chip_label(found.chip)),
                            offset: gpiod_line_offset(found.line), name: line,
                            consumer: consumer.flatMap { $0.isEmpty ? nil : $0 },
                            isUsed: gpiod_line_is_used(found.line),
                            isOutput: gpiod_line_direction(found.line) == Int32(GPIOD_LINE_DIRECTION_OUTPUT),
                            isActiveLow: gpiod_line_active_state(found.line) == Int32(GPIOD_LINE_ACTIVE_STATE_LOW))
    }

    // MARK: Internals shared with GPIOLine

    /// The open chip holding `line` and the line's handle; the caller closes the chip (which
    /// frees the line handle). Every error path closes what it opened.
    static func locate(line: String, chip: String?, devices: String) throws(GPIOError) -> (chip: OpaquePointer, line: OpaquePointer) {
        if let chip {
            let handle = try open(chip: chip, devices: devices)
            errno = 0
            if let found = gpiod_chip_find_line(handle, line) { return (handle, found) }
            let code = errno
            gpiod_chip_close(handle)
            if code == ENOENT || code == 0 { throw .lineNotFound(line: line, chip: chip) }
            throw .system(operation: "line lookup", line: line, errno: code)
        }
        var denied: String?
        for path in chipPaths(devices) {
            guard let handle = gpiod_chip_open(path) else {
                if errno == EACCES || errno == EPERM { denied = denied ?? path }
                continue
            }
            if let found = gpiod_chip_find_line(handle, line) { return (handle, found) }
            gpiod_chip_close(handle)
        }
        // A chip we may not open could hold the line: say so rather than "not found".
        if let denied { throw .permissionDenied(denied) }
        throw .lineNotFound(line: line, chip: nil)
    }

    /// Opens the chip `chip` names: a path (starts with "/"), a number, gpiochipN, or a label.
    static func open(chip: String, devices: String) throws(GPIOError) -> OpaquePointer {
        var path: String?
        if chip.hasPrefix("/") {
            path = chip
        } else if !chip.isEmpty, chip.utf8.allSatisfy({ (0x30...0x39).contains($0) }) {
            path = devices + "/gpiochip" + chip
        } else if chip.hasPrefix("gpiochip"), access(devices + "/" + chip, F_OK) == 0 {
            path = devices + "/" + chip
        }
        if let path {
            guard let handle = gpiod_chip_open(path) else { throw GPIOError.openingChip(path, named: chip, errno: errno) }
            return handle
        }
        var denied: String?
        for candidate in chipPaths(devices) {
            guard let handle = gpiod_chip_open(candidate) else {
                if errno == EACCES || errno == EPERM { denied = denied ?? candidate }
                continue
            }
            if string(gpiod_chip_label(handle)) == chip { return handle }
            gpiod_chip_close(handle)
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
}
