import CoAP

/// One connection the client keeps to a server: the bootstrap server or management server
/// `ssid`. `generation` grows with every new connection to the same server, so datagrams of a
/// connection the client already replaced are recognised and dropped.
public struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    /// Which account the connection serves.
    public enum Role: Hashable, Sendable {
        case bootstrap
        case server(UInt16)
    }

    public let role: Role
    public let generation: UInt32

    public init(role: Role, generation: UInt32) {
        self.role = role
        self.generation = generation
    }

    public var description: String {
        switch role {
        case .bootstrap: "bootstrap#\(generation)"
        case .server(let ssid): "server \(ssid)#\(generation)"
        }
    }
}
