@testable import LwM2M

// Helpers shared by the content-format tests.

/// Hex text to bytes (whitespace ignored).
func bytes(_ hex: String) -> [UInt8] {
    let digits = hex.unicodeScalars.filter { !$0.properties.isWhitespace }.map { UInt8($0.value) }
    func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
    return stride(from: 0, to: digits.count - 1, by: 2).map { nibble(digits[$0]) << 4 | nibble(digits[$0 + 1]) }
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

/// The kind of `ContentFormatError` thrown by `body`, or nil when it succeeds.
func errorKind(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let error as ContentFormatError {
        switch error {
        case .truncated: return "truncated"
        case .malformed: return "malformed"
        case .nestingTooDeep: return "nestingTooDeep"
        case .tooLarge: return "tooLarge"
        case .invalidPath: return "invalidPath"
        case .unknownResource: return "unknownResource"
        case .typeMismatch: return "typeMismatch"
        case .unsupported: return "unsupported"
        }
    } catch {
        return "other: \(error)"
    }
}

/// The Device object example values of the LwM2M TS (§7.4 examples), Read of /3/0.
let deviceRecords: [LwM2MRecord] = [
    .init(LwM2MPath(3, 0, 0), .string("Open Mobile Alliance")),
    .init(LwM2MPath(3, 0, 1), .string("Lightweight M2M Client")),
    .init(LwM2MPath(3, 0, 2), .string("345000123")),
    .init(LwM2MPath(3, 0, 3), .string("1.0")),
    .init(LwM2MPath(3, 0, 6, 0), .integer(1)),
    .init(LwM2MPath(3, 0, 6, 1), .integer(5)),
    .init(LwM2MPath(3, 0, 7, 0), .integer(3800)),
    .init(LwM2MPath(3, 0, 7, 1), .integer(5000)),
    .init(LwM2MPath(3, 0, 8, 0), .integer(125)),
    .init(LwM2MPath(3, 0, 8, 1), .integer(900)),
    .init(LwM2MPath(3, 0, 9), .integer(100)),
    .init(LwM2MPath(3, 0, 10), .integer(15)),
    .init(LwM2MPath(3, 0, 11, 0), .integer(0)),
    .init(LwM2MPath(3, 0, 13), .time(1_367_491_215)),
    .init(LwM2MPath(3, 0, 14), .string("+02:00")),
    .init(LwM2MPath(3, 0, 16), .string("U")),
]
