import AgentCommon
import AgentDaemon
/// A QR code (ISO/IEC 18004) in byte mode, versions 1–10, error correction L or M: enough for a
/// public-key hash or a short URL printed on the factory line. The mask is chosen by the
/// standard's penalty rules unless one is given.
public struct QRCode: Sendable, Equatable {
    /// Error-correction level.
    public enum ErrorCorrection: Sendable {
        /// About 7 % of the codewords can be restored.
        case low
        /// About 15 %.
        case medium

        var formatBits: Int { self == .low ? 1 : 0 }
        var row: Int { self == .low ? 0 : 1 }
    }

    /// Why no symbol could be made.
    public enum EncodingError: Error, Equatable, Sendable, CustomStringConvertible {
        case tooLong(Int)

        public var description: String {
            switch self {
            case .tooLong(let count): "\(count) bytes do not fit a version 1–10 QR code"
            }
        }
    }

    /// The version (1–10); the symbol is 17 + 4 × version modules wide.
    public let version: Int
    /// The mask pattern used (0–7).
    public let mask: Int
    /// Modules, row by row; true is dark.
    public let modules: [[Bool]]

    /// The width (and height) in modules.
    public var size: Int { modules.count }

    /// Encodes `data` in the smallest version that holds it; `mask` forces a mask pattern.
    public init(_ data: [UInt8], errorCorrection: ErrorCorrection = .medium, mask: Int? = nil) throws(EncodingError) {
        guard let version = (1...10).first(where: { Self.dataCodewords($0, errorCorrection) >= data.count + 2 + ($0 >= 10 ? 1 : 0) }) else {
            throw .tooLong(data.count)
        }
        self.version = version
        var matrix = QRMatrix(version: version)
        matrix.drawFunctionPatterns()
        let codewords = Self.addErrorCorrection(Self.dataBits(data, version: version, level: errorCorrection),
                                                version: version, level: errorCorrection)
        matrix.drawCodewords(codewords)
        let chosen = mask ?? (0..<8).min { a, b in
            var left = matrix, right = matrix
            left.apply(mask: a, level: errorCorrection)
            right.apply(mask: b, level: errorCorrection)
            return left.penalty() < right.penalty()
        }!
        matrix.apply(mask: chosen, level: errorCorrection)
        self.mask = chosen
        modules = matrix.modules
    }

    // MARK: - Codewords

    // Rows: L, M; columns: versions 1–10 (ISO/IEC 18004 table 9).
    private static let eccPerBlock = [[7, 10, 15, 20, 26, 18, 20, 24, 30, 18], [10, 16, 26, 18, 24, 16, 18, 22, 22, 26]]
    private static let blockCount = [[1, 1, 1, 1, 1, 2, 2, 2, 2, 4], [1, 1, 1, 2, 2, 4, 4, 4, 5, 5]]

    /// Modules available for data and error correction (codewords × 8, plus remainder bits).
    static func rawDataModules(_ version: Int) -> Int {
        var result = (16 * version + 128) * version + 64
        if version >= 2 {
            let alignments = version / 7 + 2
            result -= (25 * alignments - 10) * alignments - 55
            if version >= 7 { result -= 36 }
        }
        return result
    }

    static func dataCodewords(_ version: Int, _ level: ErrorCorrection) -> Int {
        rawDataModules(version) / 8 - eccPerBlock[level.row][version - 1] * blockCount[level.row][version - 1]
    }

    /// Mode indicator, count, data, terminator and padding, as codewords.
    static func dataBits(_ data: [UInt8], version: Int, level: ErrorCorrection) -> [UInt8] {
        var bits: [Bool] = []
        func append(_ value: Int, _ count: Int) {
            for shift in stride(from: count - 1, through: 0, by: -1) { bits.append((value >> shift) & 1 == 1) }
        }
        append(0b0100, 4)
        append(data.count, version >= 10 ? 16 : 8)
        for byte in data { append(Int(byte), 8) }
        let capacity = dataCodewords(version, level) * 8
        append(0, min(4, capacity - bits.count))
        append(0, (8 - bits.count % 8) % 8)
        var codewords: [UInt8] = []
        for index in stride(from: 0, to: bits.count, by: 8) {
            codewords.append(bits[index..<index + 8].reduce(0) { $0 << 1 | ($1 ? 1 : 0) })
        }
        var pad: UInt8 = 0xEC
        while codewords.count < capacity / 8 {
            codewords.append(pad)
            pad ^= 0xEC ^ 0x11
        }
        return codewords
    }

    /// Splits into blocks, appends Reed–Solomon codewords to each and interleaves.
    static func addErrorCorrection(_ data: [UInt8], version: Int, level: ErrorCorrection) -> [UInt8] {
        let blocks = blockCount[level.row][version - 1]
        let eccLength = eccPerBlock[level.row][version - 1]
        let raw = rawDataModules(version) / 8
        let shortBlocks = blocks - raw % blocks
        let shortLength = raw / blocks
        let divisor = ReedSolomon.divisor(degree: eccLength)
        var split: [[UInt8]] = []
        var offset = 0
        for index in 0..<blocks {
            let length = shortLength - eccLength + (index < shortBlocks ? 0 : 1)
            let block = Array(data[offset..<offset + length])
            offset += length
            split.append(block + ReedSolomon.remainder(block, divisor: divisor))
        }
        var result: [UInt8] = []
        for column in 0..<(shortLength + 1) {
            for (index, block) in split.enumerated() {
                // Short blocks have no codeword at the data/ECC boundary of the long ones.
                let position = index < shortBlocks && column >= shortLength - eccLength ? column - 1 : column
                if index < shortBlocks && column == shortLength - eccLength { continue }
                if position < block.count { result.append(block[position]) }
            }
        }
        return result
    }
}

/// Arithmetic in GF(2⁸) with the QR polynomial 0x11D, and the Reed–Solomon remainder.
enum ReedSolomon {
    static func multiply(_ x: UInt8, _ y: UInt8) -> UInt8 {
        var product = 0
        for shift in stride(from: 7, through: 0, by: -1) {
            product = (product << 1) ^ ((product >> 7) * 0x11D)
            product ^= Int((y >> UInt8(shift)) & 1) * Int(x)
        }
        return UInt8(product)
    }

    /// The generator polynomial's coefficients (highest first, leading 1 omitted).
    static func divisor(degree: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: degree)
        result[degree - 1] = 1
        var root: UInt8 = 1
        for _ in 0..<degree {
            for index in 0..<degree {
                result[index] = multiply(result[index], root)
                if index + 1 < degree { result[index] ^= result[index + 1] }
            }
            root = multiply(root, 2)
        }
        return result
    }

    static func remainder(_ data: [UInt8], divisor: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: divisor.count)
        for byte in data {
            let factor = byte ^ result.removeFirst()
            result.append(0)
            for index in result.indices { result[index] ^= multiply(divisor[index], factor) }
        }
        return result
    }
}
