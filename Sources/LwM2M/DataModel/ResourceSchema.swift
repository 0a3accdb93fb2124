/// What a decoder needs to know about resources: their type and whether they are
/// multi-instance. Built from object definitions, so every content format reads values the same
/// way (TLV and text carry no types; SenML numbers need them to tell integer from float).
public struct ResourceSchema: Sendable {
    private let definitions: [UInt16: ObjectDefinition]

    /// A schema over `definitions` (later ones win for a repeated object ID).
    public init(_ definitions: [ObjectDefinition]) {
        var byID: [UInt16: ObjectDefinition] = [:]
        for definition in definitions { byID[definition.id] = definition }
        self.definitions = byID
    }

    /// A schema over every OMA/IPSO object this agent ships.
    public static let oma = ResourceSchema(OMAObjects.all)

    /// The definition of the resource at `path` (a resource or resource-instance path).
    public func resource(at path: LwM2MPath) -> ResourceDefinition? {
        guard let objectID = path.objectID, let resourceID = path.resourceID else { return nil }
        return definitions[objectID]?.resource(resourceID)
    }

    public func object(_ id: UInt16) -> ObjectDefinition? { definitions[id] }

    /// The type of the resource at `path`, `nil` when unknown.
    public func type(of path: LwM2MPath) -> ResourceType? { resource(at: path)?.type }

    /// Whether the resource at `path` is multi-instance (false when unknown).
    public func isMultiple(_ path: LwM2MPath) -> Bool { resource(at: path)?.isMultiple ?? false }
}
