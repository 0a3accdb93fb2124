import CoAP

/// Executes of the Server object (/1/x/4, /8, /9), queued for the client to act on after the
/// response went out.
final class ServerTriggers: @unchecked Sendable {
    enum Trigger: Hashable {
        case disable(instance: UInt16)
        case registrationUpdate(instance: UInt16)
        case bootstrapRequest(instance: UInt16)
    }

    var pending: [Trigger] = []

    func take() -> [Trigger] {
        defer { pending = [] }
        return pending
    }
}
