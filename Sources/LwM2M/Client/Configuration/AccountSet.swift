/// The accounts of the Security and Server objects, joined by Short Server ID.
public struct AccountSet: Hashable, Sendable {
    /// The bootstrap-server account (/0/x/1 true), if any.
    public var bootstrap: SecurityAccount?
    /// Management-server accounts: Security instance and its Server instance, in registration
    /// order (Registration Priority Order ascending, unordered ones last, then by SSID).
    public var servers: [ServerAccount]

    /// Joins the Security and Server objects. Security instances without a matching Server
    /// instance (or the reverse) are left out: the consistency check reports them.
    public init(security: ProvisionedObject, server: ProvisionedObject) {
        self.init(security: security.snapshot(), server: server.snapshot())
    }

    /// Joins snapshots of the Security and Server objects.
    public init(security: ObjectSnapshot, server: ObjectSnapshot) {
        let accounts = security.instances.keys.sorted().map { SecurityAccount(instance: $0, snapshot: security) }
        bootstrap = accounts.first(where: \.isBootstrap)
        let settings = server.instances.keys.sorted().compactMap { ServerSettings(instance: $0, snapshot: server) }
        servers = accounts.filter { !$0.isBootstrap }.compactMap { account in
            guard let ssid = account.shortServerID,
                  let match = settings.first(where: { $0.shortServerID == ssid }) else { return nil }
            return ServerAccount(security: account, settings: match)
        }
        servers.sort { lhs, rhs in
            switch (lhs.settings.priorityOrder, rhs.settings.priorityOrder) {
            case let (l?, r?) where l != r: return l < r
            case (_?, nil): return true
            case (nil, _?): return false
            default: return lhs.shortServerID < rhs.shortServerID
            }
        }
    }
}
