/// The access rights of the ACL resource (/2/x/2) of the Access Control object, one bit each.
public struct AccessRights: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Read, Observe, Discover and Write-Attributes.
    public static let read = AccessRights(rawValue: 1)
    /// Write (replace and partial update).
    public static let write = AccessRights(rawValue: 2)
    /// Execute.
    public static let execute = AccessRights(rawValue: 4)
    /// Delete.
    public static let delete = AccessRights(rawValue: 8)
    /// Create (in the ACL instance of an object, Object Instance ID 65535).
    public static let create = AccessRights(rawValue: 16)
    /// Every right.
    public static let all: AccessRights = [.read, .write, .execute, .delete, .create]
}

/// The Access Control object (2) as the responder enforces it (TS 1.1 §7.3, the object's
/// resource descriptions):
///
/// - Enforced only when the Server object (1) has more than one instance; with one server
///   every operation is allowed. The Security (0) and OSCORE (21) objects stay closed to every
///   management server either way.
/// - An ACL instance covers one object instance: Object ID /2/x/0 and Object Instance ID /2/x/1;
///   Object Instance ID 65535 covers the object itself and grants Create.
/// - Rights of a server on a target: its own ACL entry (/2/x/2/<Short Server ID>) when
///   present; otherwise full rights if it is the Access Control Owner (/2/x/3); otherwise the
///   default entry /2/x/2/0; otherwise none. No ACL instance for the target: no rights.
/// - ACL instances themselves: only their owner may read or write them; nobody creates or
///   deletes them through the Device Management interface (the client does, on Create and
///   Delete of the instances they cover).
public struct AccessControl: Sendable {
    /// The Access Control object's ID.
    public static let objectID: UInt16 = 2
    /// The Object Instance ID of the ACL instance that governs Create on an object.
    public static let objectLevel: UInt16 = 65535

    /// One ACL instance.
    public struct Entry: Hashable, Sendable {
        /// The ACL instance ID (/2/x).
        public var instance: UInt16
        /// Object ID (/2/x/0) and Object Instance ID (/2/x/1) it covers.
        public var objectID: UInt16
        public var objectInstanceID: UInt16
        /// The ACL by Short Server ID (0 = default for servers without their own entry).
        public var acl: [UInt16: AccessRights]
        /// Access Control Owner (/2/x/3): a Short Server ID, 65535 for bootstrap-only.
        public var owner: UInt16
    }

    /// The server whose rights are checked.
    public let server: UInt16
    /// Every readable ACL instance of the registry.
    public let entries: [Entry]

    /// The access check for `server` on `registry`, or nil when access control does not apply
    /// (no server context, or at most one Server object instance).
    public init?(server: ServerContext?, registry: ObjectRegistry) {
        guard let server, Self.isEnforced(in: registry) else { return nil }
        self.server = server.shortServerID
        entries = Self.entries(in: registry)
    }

    /// Whether access control applies: more than one Server object instance.
    public static func isEnforced(in registry: ObjectRegistry) -> Bool {
        (registry.object(1)?.instanceIDs.count ?? 0) > 1
    }

    /// The ACL instances of `registry` (instances missing Object ID or Object Instance ID are
    /// skipped; ACL values are truncated to the five defined bits).
    public static func entries(in registry: ObjectRegistry) -> [Entry] {
        guard let object = registry.object(objectID) else { return [] }
        var result: [Entry] = []
        for instance in object.instanceIDs {
            guard let target = ServerContext.integer(object, ResourcePath(2, instance, 0)).flatMap(UInt16.init(exactly:)),
                  let targetInstance = ServerContext.integer(object, ResourcePath(2, instance, 1))
                    .flatMap(UInt16.init(exactly:)) else { continue }
            let owner = ServerContext.integer(object, ResourcePath(2, instance, 3)).flatMap(UInt16.init(exactly:)) ?? 65535
            var acl: [UInt16: AccessRights] = [:]
            if object.resourceIDs(in: instance).contains(2), case .multiple(let values)? = try? object.read(LwM2MPath(2, instance, 2)) {
                for (ssid, value) in values {
                    let bits: Int64
                    switch value {
                    case .integer(let v): bits = v
                    case .unsignedInteger(let v): bits = Int64(truncatingIfNeeded: v)
                    default: continue
                    }
                    acl[ssid] = AccessRights(rawValue: UInt8(truncatingIfNeeded: bits) & AccessRights.all.rawValue)
                }
            }
            result.append(Entry(instance: instance, objectID: target, objectInstanceID: targetInstance, acl: acl,
                                owner: owner))
        }
        return result
    }

    /// The rights of the server on object instance `/objectID/instanceID` (instance 65535: the
    /// object, for Create). For an ACL instance (object 2): read and write for its owner only.
    public func rights(objectID: UInt16, instanceID: UInt16) -> AccessRights {
        if objectID == Self.objectID {
            return entries.first { $0.instance == instanceID }?.owner == server ? [.read, .write] : []
        }
        guard let entry = entries.first(where: { $0.objectID == objectID && $0.objectInstanceID == instanceID }) else {
            return []
        }
        if let own = entry.acl[server] { return own }
        if entry.owner == server { return .all }
        return entry.acl[0] ?? []
    }

    /// Throws `.unauthorized` unless the server has all of `needed` on the target of `path`
    /// (an instance or deeper; an object path checks the object-level ACL instance).
    public func require(_ needed: AccessRights, at path: LwM2MPath) throws(LwM2MError) {
        guard let objectID = path.objectID else { throw .unauthorized }
        guard rights(objectID: objectID, instanceID: path.instanceID ?? Self.objectLevel).isSuperset(of: needed) else {
            throw .unauthorized
        }
    }

    /// Whether the server may read object instance `/objectID/instanceID`.
    public func canRead(objectID: UInt16, instanceID: UInt16) -> Bool {
        rights(objectID: objectID, instanceID: instanceID).contains(.read)
    }

    // MARK: - Bookkeeping on Create and Delete

    /// Gives `owner` an ACL instance for the new object instance `/objectID/instanceID` (TS 1.1
    /// §7.3: the creating server becomes the Access Control Owner). No-op when the registry has
    /// no Access Control object.
    static func grantOwnership(of objectID: UInt16, _ instanceID: UInt16, to owner: UInt16,
                               registry: ObjectRegistry) throws(LwM2MError) {
        guard let acl = registry.object(Self.objectID) else { return }
        guard let id = RequestHandler.lowestFreeID(acl.instanceIDs) else {
            throw .internalError("no free Access Control instance")
        }
        try acl.createInstance(id, with: [
            LwM2MRecord(LwM2MPath(2, id, 0), .integer(Int64(objectID))),
            LwM2MRecord(LwM2MPath(2, id, 1), .integer(Int64(instanceID))),
            LwM2MRecord(LwM2MPath(2, id, 3), .integer(Int64(owner))),
        ])
    }

    /// Deletes the ACL instances covering the deleted object instance `/objectID/instanceID`.
    static func removeEntries(for objectID: UInt16, _ instanceID: UInt16, registry: ObjectRegistry) {
        guard let acl = registry.object(Self.objectID) else { return }
        for entry in entries(in: registry) where entry.objectID == objectID && entry.objectInstanceID == instanceID {
            try? acl.deleteInstance(entry.instance)
        }
    }
}
