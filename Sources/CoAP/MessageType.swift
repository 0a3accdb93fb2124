/// The four CoAP message types (RFC 7252 §3).
public enum MessageType: UInt8, Sendable, CaseIterable {
    case confirmable = 0
    case nonConfirmable = 1
    case acknowledgement = 2
    case reset = 3
}
