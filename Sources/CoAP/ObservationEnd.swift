/// Why an observation ended.
public enum ObservationEnd: Sendable, Hashable {
    /// GET with Observe = 1.
    case deregistered
    /// The observer answered a notification with a Reset.
    case reset
    /// A confirmable notification was never acknowledged.
    case timeout
    /// The observer registered again with a new request on the same token.
    case replaced
    /// Cancelled by the application.
    case cancelled
}
