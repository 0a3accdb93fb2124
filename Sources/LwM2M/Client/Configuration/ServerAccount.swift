/// A management server: its Security instance and its Server instance.
public struct ServerAccount: Hashable, Sendable {
    public var security: SecurityAccount
    public var settings: ServerSettings

    public init(security: SecurityAccount, settings: ServerSettings) {
        self.security = security
        self.settings = settings
    }

    /// The Short Server ID both instances share.
    public var shortServerID: UInt16 { settings.shortServerID }
}
