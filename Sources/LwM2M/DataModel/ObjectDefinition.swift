/// Which operations a resource allows (the `Operations` element of an OMA object definition).
public struct ResourceOperations: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let read = ResourceOperations(rawValue: 1)
    public static let write = ResourceOperations(rawValue: 2)
    public static let execute = ResourceOperations(rawValue: 4)
}

/// The definition of one resource of an object (from the OMA/IPSO XML).
public struct ResourceDefinition: Hashable, Sendable {
    public let id: UInt16
    public let name: String
    public let operations: ResourceOperations
    public let isMultiple: Bool
    public let isMandatory: Bool
    public let type: ResourceType
    /// The XML's RangeEnumeration text ("0..100", "0..255 bytes", …), empty when unbounded.
    public let range: String
    public let units: String

    public init(id: UInt16, name: String, operations: ResourceOperations, isMultiple: Bool, isMandatory: Bool,
                type: ResourceType, range: String = "", units: String = "") {
        self.id = id
        self.name = name
        self.operations = operations
        self.isMultiple = isMultiple
        self.isMandatory = isMandatory
        self.type = type
        self.range = range
        self.units = units
    }
}

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
