import CoAP  // SplitMix64
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

/// The case of a `ContentFormatError`, without its text (one mapping for every codec test).
enum ErrorKind: Hashable, CustomStringConvertible {
    case truncated, malformed, nestingTooDeep, tooLarge, invalidPath, unknownResource, typeMismatch, unsupported

    init(_ error: ContentFormatError) {
        switch error {
        case .truncated: self = .truncated
        case .malformed: self = .malformed
        case .nestingTooDeep: self = .nestingTooDeep
        case .tooLarge: self = .tooLarge
        case .invalidPath: self = .invalidPath
        case .unknownResource: self = .unknownResource
        case .typeMismatch: self = .typeMismatch
        case .unsupported: self = .unsupported
        }
    }

    var description: String {
        switch self {
        case .truncated: "truncated"
        case .malformed: "malformed"
        case .nestingTooDeep: "nestingTooDeep"
        case .tooLarge: "tooLarge"
        case .invalidPath: "invalidPath"
        case .unknownResource: "unknownResource"
        case .typeMismatch: "typeMismatch"
        case .unsupported: "unsupported"
        }
    }
}

/// The kind of `ContentFormatError` thrown by `body` as text, or nil when it succeeds.
func errorKind(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let error as ContentFormatError {
        return ErrorKind(error).description
    } catch {
        return "other: \(error)"
    }
}

/// Applies one to three random byte edits (overwrite, delete, insert) for mutation tests.
func mutate(_ input: inout [UInt8], using rng: inout SplitMix64) {
    for _ in 0..<Int(rng.next() % 3 + 1) {
        guard !input.isEmpty else { return }
        let position = Int(rng.next() % UInt64(input.count))
        switch rng.next() % 3 {
        case 0: input[position] = UInt8(truncatingIfNeeded: rng.next())
        case 1: input.remove(at: position)
        default: input.insert(UInt8(truncatingIfNeeded: rng.next()), at: position)
        }
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

extension DeviceInfo {
    /// The fixed /3/0 values the responder, reporting and client tests assert on (invented,
    /// test data only; they were `DeviceInfo()`'s defaults before the live Device object).
    static let fixture = DeviceInfo(manufacturer: "Open Source Gateways", modelNumber: "GW-A53", serialNumber: "GW53-000001",
                                    firmwareVersion: "1.0.0", deviceType: "Gateway", hardwareVersion: "rev B",
                                    softwareVersion: "0.1.0", powerSources: [1, 5], powerSourceVoltages: [3700, 5000],
                                    batteryLevel: 95, memoryFree: 65536, memoryTotal: 262_144)
}
