/// The definition of an LwM2M object (from the OMA/IPSO XML).
public struct ObjectDefinition: Hashable, Sendable {
    public let id: UInt16
    public let name: String
    /// ObjectVersion, e.g. "1.2" (sent as `ver=` in the Register payload when not "1.0").
    public let version: String
    public let lwm2mVersion: String
    public let isMultiple: Bool
    public let isMandatory: Bool
    public let resources: [ResourceDefinition]

    public init(id: UInt16, name: String, version: String, lwm2mVersion: String, isMultiple: Bool,
                isMandatory: Bool, resources: [ResourceDefinition]) {
        self.id = id
        self.name = name
        self.version = version
        self.lwm2mVersion = lwm2mVersion
        self.isMultiple = isMultiple
        self.isMandatory = isMandatory
        self.resources = resources
    }

    /// The resource with `id`, if the object defines one.
    public func resource(_ id: UInt16) -> ResourceDefinition? {
        // Definitions usually list resources 0, 1, 2… in order: try the index equal to the ID
        // before searching (this runs several times per resource of every read).
        if Int(id) < resources.count, resources[Int(id)].id == id { return resources[Int(id)] }
        return resources.first { $0.id == id }
    }
}
