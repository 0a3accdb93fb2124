/// A CoAP option number, with the properties RFC 7252 §5.4.6 derives from it and the
/// registry facts (format, length bounds, repeatability) for the options this engine knows.
public struct OptionNumber: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16

    @inlinable public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    @inlinable public static func < (lhs: OptionNumber, rhs: OptionNumber) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Critical options must be understood by the recipient (odd numbers).
    @inlinable public var isCritical: Bool { rawValue & 1 == 1 }
    /// Unsafe-to-forward options.
    @inlinable public var isUnsafe: Bool { rawValue & 2 == 2 }
    /// NoCacheKey options (e.g. Size1, Size2).
    @inlinable public var isNoCacheKey: Bool { rawValue & 0x1E == 0x1C }

    public static let ifMatch = OptionNumber(1)
    public static let uriHost = OptionNumber(3)
    public static let eTag = OptionNumber(4)
    public static let ifNoneMatch = OptionNumber(5)
    public static let observe = OptionNumber(6)
    public static let uriPort = OptionNumber(7)
    public static let locationPath = OptionNumber(8)
    public static let uriPath = OptionNumber(11)
    public static let contentFormat = OptionNumber(12)
    public static let maxAge = OptionNumber(14)
    public static let uriQuery = OptionNumber(15)
    public static let accept = OptionNumber(17)
    public static let locationQuery = OptionNumber(20)
    public static let block2 = OptionNumber(23)
    public static let block1 = OptionNumber(27)
    public static let size2 = OptionNumber(28)
    public static let proxyURI = OptionNumber(35)
    public static let proxyScheme = OptionNumber(39)
    public static let size1 = OptionNumber(60)
    public static let noResponse = OptionNumber(258)

    /// How an option's value is represented (RFC 7252 §3.2).
    public enum Format: Sendable { case empty, opaque, uint, string }

    /// Registry entry for a known option.
    public struct Definition: Sendable {
        public let name: String
        public let format: Format
        public let lengths: ClosedRange<Int>
        public let isRepeatable: Bool
    }

    /// The registry entry, or `nil` for an option this engine does not recognise.
    public var definition: Definition? {
        switch rawValue {
        case 1: Definition(name: "If-Match", format: .opaque, lengths: 0...8, isRepeatable: true)
        case 3: Definition(name: "Uri-Host", format: .string, lengths: 1...255, isRepeatable: false)
        case 4: Definition(name: "ETag", format: .opaque, lengths: 1...8, isRepeatable: true)
        case 5: Definition(name: "If-None-Match", format: .empty, lengths: 0...0, isRepeatable: false)
        case 6: Definition(name: "Observe", format: .uint, lengths: 0...3, isRepeatable: false)
        case 7: Definition(name: "Uri-Port", format: .uint, lengths: 0...2, isRepeatable: false)
        case 8: Definition(name: "Location-Path", format: .string, lengths: 0...255, isRepeatable: true)
        case 11: Definition(name: "Uri-Path", format: .string, lengths: 0...255, isRepeatable: true)
        case 12: Definition(name: "Content-Format", format: .uint, lengths: 0...2, isRepeatable: false)
        case 14: Definition(name: "Max-Age", format: .uint, lengths: 0...4, isRepeatable: false)
        case 15: Definition(name: "Uri-Query", format: .string, lengths: 0...255, isRepeatable: true)
        case 17: Definition(name: "Accept", format: .uint, lengths: 0...2, isRepeatable: false)
        case 20: Definition(name: "Location-Query", format: .string, lengths: 0...255, isRepeatable: true)
        case 23: Definition(name: "Block2", format: .uint, lengths: 0...3, isRepeatable: false)
        case 27: Definition(name: "Block1", format: .uint, lengths: 0...3, isRepeatable: false)
        case 28: Definition(name: "Size2", format: .uint, lengths: 0...4, isRepeatable: false)
        case 35: Definition(name: "Proxy-Uri", format: .string, lengths: 1...1034, isRepeatable: false)
        case 39: Definition(name: "Proxy-Scheme", format: .string, lengths: 1...255, isRepeatable: false)
        case 60: Definition(name: "Size1", format: .uint, lengths: 0...4, isRepeatable: false)
        case 258: Definition(name: "No-Response", format: .uint, lengths: 0...1, isRepeatable: false)
        default: nil
        }
    }

    public var description: String { definition?.name ?? "Option\(rawValue)" }
}
