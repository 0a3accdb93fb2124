import AgentCommon
import Files

/// Where the kernel's files are read from: `/` on a board, a fixture tree in tests. Every reader
/// of sysfs, procfs or the device tree takes one, so no test needs the machine's real files.
public struct SystemRoot: Hashable, Sendable, CustomStringConvertible {
    /// The prefix put before every absolute path ("" for the real root).
    public let prefix: String

    /// The machine's own files.
    public static let live = SystemRoot(prefix: "")

    /// Files under `directory` (a fixture tree mirroring `/sys`, `/proc`, `/etc`); "/" is `live`.
    public init(_ directory: String) {
        var prefix = directory
        while prefix.hasSuffix("/") { prefix.removeLast() }
        self.init(prefix: prefix)
    }

    private init(prefix: String) { self.prefix = prefix }

    public var description: String { prefix.isEmpty ? "/" : prefix }

    /// `path` (absolute, as on the board) under this root.
    public func path(_ path: String) -> String {
        prefix + (path.hasPrefix("/") ? path : "/" + path)
    }

    /// The largest kernel attribute read: sysfs attributes are at most one page, /proc files
    /// this agent reads (meminfo, net/route) a few KiB.
    public static let maximumFileSize = 256 << 10

    /// The bytes of the file at `path`.
    public func bytes(_ path: String) throws(FileError) -> [UInt8] {
        try FileReader.read(self.path(path), maximumSize: Self.maximumFileSize)
    }

    /// The file's text with NULs (device-tree strings) and surrounding blanks removed; nil when
    /// the file is absent, unreadable or empty.
    public func text(_ path: String) -> String? {
        guard let bytes = try? bytes(path) else { return nil }
        let text = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self).trimmingSpaces()
        return text.isEmpty ? nil : text
    }

    /// The first line of `text(path)`.
    public func firstLine(_ path: String) -> String? {
        guard let text = text(path) else { return nil }
        let line = text.split(separator: "\n", maxSplits: 1).first.map { String($0).trimmingSpaces() } ?? ""
        return line.isEmpty ? nil : line
    }

    /// A sysfs attribute holding one integer (`/sys/class/power_supply/BAT0/capacity`); nil
    /// when absent or not a number.
    public func integer(_ path: String) -> Int64? {
        firstLine(path).flatMap { Int64($0) }
    }

    /// The NUL-separated strings of a device-tree property (`compatible`).
    public func strings(_ path: String) -> [String] {
        guard let bytes = try? bytes(path) else { return [] }
        return bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The entries of a directory (`/sys/class/thermal`), sorted; empty when absent.
    public func entries(_ path: String) -> [String] {
        (try? Directory.list(self.path(path))) ?? []
    }

    /// Whether `path` exists under this root.
    public func exists(_ path: String) -> Bool {
        FileReader.exists(self.path(path))
    }
}
