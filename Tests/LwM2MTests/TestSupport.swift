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
