/// Which operations a resource allows (the `Operations` element of an OMA object definition).
public struct ResourceOperations: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let read = ResourceOperations(rawValue: 1)
    public static let write = ResourceOperations(rawValue: 2)
    public static let execute = ResourceOperations(rawValue: 4)
}
