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
