/// Which LwM2M server a request comes from (or a notification or Send goes to), identified by
/// its Short Server ID (/1/x/0). The client layer knows it from the security session the
/// request arrived on and passes it to `RequestHandler.handle(_:registry:server:attributes:)`.
///
/// Per-server state lives with the caller, one per server: an `AttributeStore` (the attributes
/// that server wrote; its defaults from `loadServerDefaults(from:server:)`) and a
/// `ReportingEngine` (its observations, its online state, its stored notifications).
public struct ServerContext: Hashable, Sendable {
    /// The server's Short Server ID (1...65534).
    public var shortServerID: UInt16

    /// The server with Short Server ID `shortServerID`.
    public init(shortServerID: UInt16) {
        self.shortServerID = shortServerID
    }

    /// The Server object instance (/1/x) whose Short Server ID (/1/x/0) is this server's, if any.
    public func serverInstance(in registry: ObjectRegistry) -> UInt16? {
        guard let servers = registry.object(1) else { return nil }
        return servers.instanceIDs.first { instance in
            Self.integer(servers, ResourcePath(1, instance, 0)) == Int64(shortServerID)
        }
    }

    /// Notification Storing When Disabled or Offline (/1/x/6) of this server's account; true when
    /// the resource or the account is absent (the resource is mandatory; storing loses nothing).
    public func storesNotificationsWhenOffline(in registry: ObjectRegistry) -> Bool {
        boolean(6, in: registry) ?? true
    }

    /// Mute Send (/1/x/23) of this server's account; false when absent (TS 1.1 default).
    public func isSendMuted(in registry: ObjectRegistry) -> Bool {
        boolean(23, in: registry) ?? false
    }

    private func boolean(_ resource: UInt16, in registry: ObjectRegistry) -> Bool? {
        guard let instance = serverInstance(in: registry), let servers = registry.object(1),
              case .single(.boolean(let value))? = try? servers.read(LwM2MPath(1, instance, resource)) else { return nil }
        return value
    }

    /// The integer value of the single resource at `path`, read regardless of its operations.
    static func integer(_ object: any LwM2MObject, _ path: ResourcePath) -> Int64? {
        guard object.resourceIDs(in: path.instanceID).contains(path.resourceID),
              case .single(let value)? = try? object.read(path.path) else { return nil }
        switch value {
        case .integer(let v): return v
        case .unsignedInteger(let v): return Int64(exactly: v)
        default: return nil
        }
    }
}

extension AttributeStore {
    /// Reads `server`'s defaults (Default Minimum / Maximum Period, /1/x/2 and /1/x/3) from its
    /// Server object instance; leaves them unset when the server has no instance.
    public mutating func loadServerDefaults(from registry: ObjectRegistry, server: ServerContext) {
        guard let instance = server.serverInstance(in: registry) else {
            defaults.pmin = nil
            defaults.pmax = nil
            return
        }
        loadServerDefaults(from: registry, instance: instance)
    }
}
