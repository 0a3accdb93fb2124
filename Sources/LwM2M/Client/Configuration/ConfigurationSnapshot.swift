import CoAP

/// The configuration objects (Security 0, Server 1, Access Control 2) as values: the factory
/// snapshot, the state file's content, and what a failed bootstrap restores.
public struct ConfigurationSnapshot: Hashable, Sendable {
    public var objects: [UInt16: ObjectSnapshot]

    public init(objects: [UInt16: ObjectSnapshot] = [:]) {
        self.objects = objects
    }

    /// Every credential name the snapshot refers to.
    public var credentialReferences: Set<CredentialReference> {
        objects.values.reduce(into: []) { $0.formUnion(ProvisionedObject.credentialReferences(in: $1)) }
    }
}
