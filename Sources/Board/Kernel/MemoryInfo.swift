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
    public static func parse(_ text: String) -> MemoryInfo? { parse(bytes: Array(text.utf8)) }

    /// The figures in the bytes of `/proc/meminfo`: "Key:  value kB" lines, read without
    /// building strings (a served Read of /3/0 parses the file; the text version cost ~80 µs).
    /// A line whose value is not a non-negative decimal is skipped; a key given twice counts
    /// the last time.
    public static func parse(bytes: [UInt8]) -> MemoryInfo? {
        var total, available, free, buffers, cached: Int64?
        let count = bytes.count
        var i = 0
        while i < count {
            while i < count, bytes[i] == space { i += 1 }
            let keyStart = i
            while i < count, bytes[i] != space, bytes[i] != newline { i += 1 }
            let keyEnd = i
            while i < count, bytes[i] == space { i += 1 }
            let valueStart = i
            var value: Int64 = 0
            var isNumber = true
            while i < count, bytes[i] != space, bytes[i] != newline {
                let digit = bytes[i] &- 0x30
                if digit > 9 || value > (Int64.max - Int64(digit)) / 10 {
                    isNumber = false
                } else {
                    value = value * 10 + Int64(digit)
                }
                i += 1
            }
            let valueEnd = i
            while i < count, bytes[i] != newline { i += 1 }
            i += 1
            guard isNumber, valueEnd > valueStart, keyEnd - keyStart >= 2, bytes[keyEnd - 1] == colon else { continue }
            let key = bytes[keyStart..<(keyEnd - 1)]
            if key.elementsEqual(memTotal) { total = value }
            else if key.elementsEqual(memAvailable) { available = value }
            else if key.elementsEqual(memFree) { free = value }
            else if key.elementsEqual(buffersKey) { buffers = value }
            else if key.elementsEqual(cachedKey) { cached = value }
        }
        guard let total else { return nil }
        let sum = free.map { [$0, buffers ?? 0, cached ?? 0].reduce(Int64(0)) { $0.addingReportingOverflow($1).overflow ? .max : $0 + $1 } }
        guard let available = available ?? sum else { return nil }
        return MemoryInfo(totalKiB: total, availableKiB: min(available, total))
    }

    private static let space = UInt8(ascii: " ")
    private static let newline = UInt8(ascii: "\n")
    private static let colon = UInt8(ascii: ":")
    private static let memTotal = Array("MemTotal".utf8)
    private static let memAvailable = Array("MemAvailable".utf8)
    private static let memFree = Array("MemFree".utf8)
    private static let buffersKey = Array("Buffers".utf8)
    private static let cachedKey = Array("Cached".utf8)

    /// The machine's figures under `root`; nil when the file is absent, unreadable or malformed.
    public static func read(_ root: SystemRoot) -> MemoryInfo? {
        guard let bytes = try? root.bytes("/proc/meminfo") else { return nil }
        return parse(bytes: bytes)
    }

    /// In the Device object's unit, kilobytes of 1000 bytes (OMA 3.xml, Memory Free).
    public var deviceMemory: DeviceMemory {
        DeviceMemory(free: Self.kilobytes(availableKiB), total: Self.kilobytes(totalKiB))
    }

    static func kilobytes(_ kib: Int64) -> Int64 { kib.multipliedReportingOverflow(by: 1024).overflow ? kib : kib * 1024 / 1000 }
}
