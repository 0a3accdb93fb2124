import LwM2M

/// The UTC offset a compiled time-zone file (RFC 8536 "TZif", what `/etc/localtime` points at)
/// gives at an instant: the local-time type of the last transition at or before it, else the
/// first type. Used for a system root other than `/` (the agent's own process zone is the live
/// one); the POSIX rule in the footer is not evaluated, so past the file's last transition the
/// last type holds (Debian's "fat" files list transitions up to 2037).
public enum TZif {
    /// The offset in seconds east of UTC at `seconds`; nil when `bytes` is not a TZif file.
    public static func offset(_ bytes: [UInt8], at seconds: Int64) -> Int? {
        guard let v1 = Header(bytes, at: 0) else { return nil }
        var header = v1, timeSize = 4
        if bytes[4] >= UInt8(ascii: "2") {  // version 2+: a second header and 64-bit block
            guard let v2 = Header(bytes, at: v1.end(timeSize: 4)) else { return nil }
            header = v2
            timeSize = 8
        }
        guard header.typeCount > 0, header.end(timeSize: timeSize) <= bytes.count else { return nil }
        var type = 0
        let times = header.start, indices = times + header.timeCount * timeSize
        for index in 0..<header.timeCount {
            let at = integer(bytes, times + index * timeSize, timeSize)
            guard at <= seconds else { break }
            type = Int(bytes[indices + index])
        }
        guard type < header.typeCount else { return nil }
        let info = indices + header.timeCount + type * 6
        return Int(Int32(truncatingIfNeeded: integer(bytes, info, 4)))
    }

    private static func integer(_ bytes: [UInt8], _ at: Int, _ size: Int) -> Int64 {
        var value: Int64 = (bytes[at] & 0x80) != 0 ? -1 : 0
        for byte in bytes[at..<(at + size)] { value = (value << 8) | Int64(byte) }
        return value
    }

    private struct Header {
        let start: Int
        let utCount, standardCount, leapCount, timeCount, typeCount, charCount: Int

        init?(_ bytes: [UInt8], at offset: Int) {
            guard offset + 44 <= bytes.count, bytes[offset..<(offset + 4)].elementsEqual("TZif".utf8) else { return nil }
            func count(_ index: Int) -> Int? {
                let value = TZif.integer(bytes, offset + 20 + index * 4, 4)
                return value >= 0 && value < 1 << 20 ? Int(value) : nil
            }
            guard let ut = count(0), let standard = count(1), let leap = count(2), let time = count(3),
                  let type = count(4), let chars = count(5) else { return nil }
            start = offset + 44
            (utCount, standardCount, leapCount, timeCount, typeCount, charCount) = (ut, standard, leap, time, type, chars)
        }

        func end(timeSize: Int) -> Int {
            start + timeCount * (timeSize + 1) + typeCount * 6 + charCount + leapCount * (timeSize + 4)
                + standardCount + utCount
        }
    }
}
