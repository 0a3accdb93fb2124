/// Identifies a request this endpoint originated (client role).
public struct RequestID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public var description: String { "req#\(rawValue)" }
}
