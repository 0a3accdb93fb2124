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
