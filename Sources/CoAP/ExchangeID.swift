/// Identifies a request this endpoint received and has not answered yet (server role).
public struct ExchangeID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public var description: String { "exch#\(rawValue)" }
}
