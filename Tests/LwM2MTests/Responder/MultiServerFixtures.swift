import CoAP
@testable import LwM2M

/// The `Responder` registry plus a Server object (/1) with one instance per Short Server ID and
/// an empty Access Control object (/2); each server has its own attribute store.
final class MultiServer {
    let responder: Responder
    let servers: StaticObject
    let acl: StaticObject
    var stores: [UInt16: AttributeStore] = [:]

    var registry: ObjectRegistry { responder.registry }

    /// Server instances /1/0, /1/1 … for `shortServerIDs`, each with Lifetime 300, Binding "U",
    /// Notification Storing (/1/x/6) `storing`, and Default Minimum / Maximum Period 1 and 60
    /// for the first server only.
    init(_ shortServerIDs: [UInt16] = [101, 102], storing: Bool = true) throws {
        responder = try Responder()
        servers = StaticObject(definition: OMAObjects.definition(1)!)
        acl = StaticObject(definition: OMAObjects.definition(2)!)
        for (index, ssid) in shortServerIDs.enumerated() {
            let instance = UInt16(index)
            try servers.set(LwM2MPath(1, instance, 0), .integer(Int64(ssid)))
            try servers.set(LwM2MPath(1, instance, 1), .integer(300))
            try servers.set(LwM2MPath(1, instance, 6), .boolean(storing))
            try servers.set(LwM2MPath(1, instance, 7), .string("U"))
            if index == 0 {
                try servers.set(LwM2MPath(1, instance, 2), .integer(1))
                try servers.set(LwM2MPath(1, instance, 3), .integer(60))
            }
        }
        registry.register(servers)
        registry.register(acl)
        _ = registry.takeChanges()
    }

    /// Adds ACL instance `instance` for `/object/objectInstance` with `rights` by Short Server ID
    /// (0 = default) and owner `owner`.
    func addACL(_ instance: UInt16, object: UInt16, objectInstance: UInt16, rights: [UInt16: AccessRights] = [:],
                owner: UInt16) throws {
        try acl.set(LwM2MPath(2, instance, 0), .integer(Int64(object)))
        try acl.set(LwM2MPath(2, instance, 1), .integer(Int64(objectInstance)))
        if !rights.isEmpty {
            try acl.set(LwM2MPath(2, instance, 2), .multiple(rights.mapValues { .integer(Int64($0.rawValue)) }))
        }
        try acl.set(LwM2MPath(2, instance, 3), .integer(Int64(owner)))
        _ = registry.takeChanges()
    }

    /// The response to `message` from server `ssid`, with that server's attribute store.
    func handle(_ message: CoAPMessage, from ssid: UInt16) -> CoAPResponse {
        var store = stores[ssid] ?? AttributeStore()
        defer { stores[ssid] = store }
        return RequestHandler().handle(message, registry: registry, server: ServerContext(shortServerID: ssid),
                                       attributes: &store)
    }
}
