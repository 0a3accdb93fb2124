/// The data types of LwM2M resources (TS 1.1 Appendix C).
public enum ResourceType: String, Hashable, Sendable, CaseIterable {
    case string = "String"
    case integer = "Integer"
    case unsignedInteger = "Unsigned Integer"
    case float = "Float"
    case boolean = "Boolean"
    case opaque = "Opaque"
    case time = "Time"
    case objectLink = "Objlnk"
    case coreLink = "Corelnk"
    /// Executable resources carry no value.
    case none = "none"

    /// Whether gt/lt/st attributes apply.
    public var isNumeric: Bool { self == .integer || self == .unsignedInteger || self == .float || self == .time }
}
