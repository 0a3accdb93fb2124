import LwM2M
import Time

/// What the client's events said about each account, for the status: the last error of the
/// bootstrap and of each server (kept until it succeeds) and when each server registered. Fed
/// by ``ClientRuntime`` with every ``ClientEvent``.
public struct AccountHistory: Sendable {
    /// An error and when it happened.
    public struct Failure: Hashable, Sendable {
        public var reason: String
        public var at: Instant
    }

    public private(set) var bootstrapError: Failure?
    public private(set) var serverErrors: [UInt16: Failure] = [:]
    public private(set) var registeredAt: [UInt16: Instant] = [:]

    public init() {}

    /// Takes one event of the client, at `now`.
    public mutating func record(_ event: ClientEvent, at now: Instant) {
        switch event {
        case .bootstrapFailed(let reason, _):
            bootstrapError = Failure(reason: reason, at: now)
        case .bootstrapFinished:
            bootstrapError = nil
        case .registrationFailed(let ssid, let reason, _):
            serverErrors[ssid] = Failure(reason: reason, at: now)
            registeredAt[ssid] = nil
        case .registered(let ssid, _, _):
            serverErrors[ssid] = nil
            registeredAt[ssid] = now
        case .deregistered(let ssid), .accountDeleted(let ssid):
            registeredAt[ssid] = nil
        case .factoryReset:
            self = AccountHistory()
        default:
            break
        }
    }
}
