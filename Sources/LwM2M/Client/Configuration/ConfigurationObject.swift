/// The instances of one object as plain values: what a bootstrap session snapshots before it
/// starts writing, restores when it fails, and what the state file stores.
public struct ObjectSnapshot: Hashable, Sendable {
    /// Resource contents by instance, then resource ID.
    public var instances: [UInt16: [UInt16: ResourceContent]]
    /// Secret resources by instance, then resource ID: where each secret lives in the
    /// `CredentialStore` (never the secret itself).
    public var secrets: [UInt16: [UInt16: CredentialReference]]

    /// A snapshot of `instances` holding no secrets.
    public init(instances: [UInt16: [UInt16: ResourceContent]] = [:],
                secrets: [UInt16: [UInt16: CredentialReference]] = [:]) {
        self.instances = instances
        self.secrets = secrets
    }

    /// The leaf records of every instance, in path order (secrets not included).
    public func records(objectID: UInt16) -> [LwM2MRecord] {
        var records: [LwM2MRecord] = []
        for instance in instances.keys.sorted() {
            let resources = instances[instance]!
            for resource in resources.keys.sorted() {
                resources[resource]!.appendRecords(at: LwM2MPath(objectID, instance, resource), to: &records)
            }
        }
        return records
    }
}

/// The name of a secret in the `CredentialStore`, as the configuration objects keep it.
public typealias CredentialReference = String

/// An object the Bootstrap interface configures (Security, Server, Access Control): the
/// bootstrap server may write any of its resources, whatever their operations, and delete any
/// instance; a bootstrap session snapshots it first and restores the snapshot if the session
/// fails, so the old configuration stays in force (TS 1.1 §5.2.7, seed 001).
public protocol ConfigurationObject: LwM2MObject {
    /// Bootstrap-Write of `records` into instance `instance`, creating it when absent. Resources
    /// named by the records replace the old ones; others are kept.
    func bootstrapWrite(instance: UInt16, records: [LwM2MRecord]) throws(LwM2MError)
    /// Bootstrap-Delete of instance `instance` (a missing one is not an error).
    func bootstrapDelete(instance: UInt16)
    /// The current instances.
    func snapshot() -> ObjectSnapshot
    /// Replaces every instance with the snapshot's.
    func restore(_ snapshot: ObjectSnapshot)
}

extension ResourceContent {
    /// Groups bootstrap-written `records` by resource, checking each against `definition`
    /// (single/multiple and value types) but not the operations: the Bootstrap interface may
    /// write read-only resources. Unknown resources are 4.00: refusing keeps a typo in a bootstrap
    /// plan visible.
    static func bootstrapGrouping(_ records: [LwM2MRecord], definition: ObjectDefinition, instance: UInt16)
        throws(LwM2MError) -> [UInt16: ResourceContent]
    {
        for record in records where record.path.objectID != definition.id || record.path.instanceID != instance {
            throw .badRequest("\(record.path) lies outside /\(definition.id)/\(instance)")
        }
        return try grouping(records, definition: definition)
    }
}
