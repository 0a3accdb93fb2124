import LwM2M

/// Memory figures from `/proc/meminfo` (proc(5)): `MemTotal` and `MemAvailable` in KiB.
public struct MemoryInfo: Hashable, Sendable {
    /// KiB (the file's "kB" are 1024 bytes).
    public var totalKiB: Int64
    public var availableKiB: Int64

    public init(totalKiB: Int64, availableKiB: Int64) {
        self.totalKiB = totalKiB
        self.availableKiB = availableKiB
    }

    /// The figures in `text`; nil without `MemTotal`. Kernels before 3.14 have no
    /// `MemAvailable`: then `MemFree + Buffers + Cached` stands in.
    public static func parse(_ text: String) -> MemoryInfo? {
        var values: [Substring: Int64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2, parts[0].hasSuffix(":"), let value = Int64(parts[1]), value >= 0 else { continue }
            values[parts[0].dropLast()] = value
        }
        guard let total = values["MemTotal"] else { return nil }
        let available = values["MemAvailable"]
            ?? values["MemFree"].map { $0 + (values["Buffers"] ?? 0) + (values["Cached"] ?? 0) }
        guard let available else { return nil }
        return MemoryInfo(totalKiB: total, availableKiB: min(available, total))
    }

    /// The machine's figures under `root`; nil when the file is absent, unreadable or malformed.
    public static func read(_ root: SystemRoot) -> MemoryInfo? {
        guard let bytes = try? root.bytes("/proc/meminfo") else { return nil }
        return parse(String(decoding: bytes, as: UTF8.self))
    }

    /// In the Device object's unit, kilobytes of 1000 bytes (OMA 3.xml, Memory Free).
    public var deviceMemory: DeviceMemory {
        DeviceMemory(free: Self.kilobytes(availableKiB), total: Self.kilobytes(totalKiB))
    }

    static func kilobytes(_ kib: Int64) -> Int64 { kib.multipliedReportingOverflow(by: 1024).overflow ? kib : kib * 1024 / 1000 }
}
