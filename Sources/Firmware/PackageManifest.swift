/// The signed description of a firmware image: UTF-8 text, one `key=value` per line, the keys
/// in this order and each exactly once (docs/firmware-update.md, "Package format"):
///
///     board=rpi4-gateway
///     version=2.1.0
///     size=33554432
///     sha256=<64 lowercase hex digits>
///
/// Values are printable ASCII without `=`, at most 128 bytes; the manifest is at most
/// `PackageHeader.maximumManifestLength` bytes.
public struct PackageManifest: Equatable, Sendable {
    /// The board the image is built for (the board file's name, e.g. `rpi4-gateway`).
    public var board: String
    /// The image's version (reported as PkgVersion, /5/0/7).
    public var version: String
    /// The image's size in bytes.
    public var size: Int64
    /// The image's SHA-256 (32 bytes).
    public var sha256: [UInt8]

    static let keys = ["board", "version", "size", "sha256"]
    static let maximumValueLength = 128

    public init(board: String, version: String, size: Int64, sha256: [UInt8]) throws(PackageError) {
        self.board = board
        self.version = version
        self.size = size
        self.sha256 = sha256
        for value in [board, version] { try Self.checkValue(value) }
        guard size >= 0 else { throw .malformedManifest("negative size") }
        guard sha256.count == 32 else { throw .malformedManifest("sha256 must have 32 bytes") }
    }

    /// Parses a manifest; refuses anything but the four keys, in order, each once.
    public init(parsing bytes: [UInt8]) throws(PackageError) {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .malformedManifest("not UTF-8") }
        guard text.hasSuffix("\n") else { throw .malformedManifest("the last line does not end with a newline") }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == Self.keys.count else {
            throw .malformedManifest("expected \(Self.keys.count) lines (\(Self.keys.joined(separator: ", "))), found \(lines.count)")
        }
        var values: [String] = []
        for (line, key) in zip(lines, Self.keys) {
            guard let equals = line.firstIndex(of: "="), line[..<equals] == key else {
                throw .malformedManifest("expected \(key)=… in line \(values.count + 1)")
            }
            let value = String(line[line.index(after: equals)...])
            try Self.checkValue(value)
            values.append(value)
        }
        guard let size = Int64(values[2]), size >= 0, values[2].first != "+" else {
            throw .malformedManifest("size is not a byte count")
        }
        guard let digest = Self.parseHex(values[3]), digest.count == 32 else {
            throw .malformedManifest("sha256 is not 64 lowercase hex digits")
        }
        try self.init(board: values[0], version: values[1], size: size, sha256: digest)
    }

    /// The manifest text as signed.
    public var encoded: [UInt8] {
        let digits = Array("0123456789abcdef".utf8)
        let hexDigest = String(decoding: sha256.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] }, as: UTF8.self)
        return Array("board=\(board)\nversion=\(version)\nsize=\(size)\nsha256=\(hexDigest)\n".utf8)
    }

    private static func checkValue(_ value: String) throws(PackageError) {
        guard !value.isEmpty, value.utf8.count <= maximumValueLength else {
            throw .malformedManifest("values must have 1…\(maximumValueLength) bytes")
        }
        guard value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "=") }) else {
            throw .malformedManifest("values are printable ASCII without spaces or '='")
        }
    }

    private static func parseHex(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}
