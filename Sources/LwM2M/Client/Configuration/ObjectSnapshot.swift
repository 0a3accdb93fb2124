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
