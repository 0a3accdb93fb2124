/// The value of one resource: a single value, or the instances of a multi-instance resource by
/// resource-instance ID (possibly none).
public enum ResourceContent: Hashable, Sendable {
    /// The value of a single-instance resource.
    case single(ResourceValue)
    /// The instances of a multi-instance resource, by resource-instance ID.
    case multiple([UInt16: ResourceValue])

    /// The leaf records of this content for the resource at `path` (`/o/i/r`), resource
    /// instances by ascending ID.
    public func records(at path: LwM2MPath) -> [LwM2MRecord] {
        switch self {
        case .single(let value):
            return [LwM2MRecord(path, value)]
        case .multiple(let instances):
            return instances.keys.sorted().map { LwM2MRecord(path.appending($0), instances[$0]!) }
        }
    }

    /// Appends `records(at: path)` to `records` (no array per resource on a read).
    func appendRecords(at path: LwM2MPath, to records: inout [LwM2MRecord]) {
        switch self {
        case .single(let value):
            records.append(LwM2MRecord(path, value))
        case .multiple(let instances):
            for id in instances.keys.sorted() { records.append(LwM2MRecord(path.appending(id), instances[id]!)) }
        }
    }

    /// Checks that this content fits `resource`: single or multiple as defined, every value of
    /// the defined type; executable resources hold no value. Throws `.badRequest` otherwise.
    public func validate(against resource: ResourceDefinition) throws(LwM2MError) {
        guard resource.type != .none else {
            throw .badRequest("resource \(resource.id) is executable and holds no value")
        }
        let values: [ResourceValue]
        switch self {
        case .single(let value):
            guard !resource.isMultiple else { throw .badRequest("resource \(resource.id) is multi-instance") }
            values = [value]
        case .multiple(let instances):
            guard resource.isMultiple else { throw .badRequest("resource \(resource.id) is single-instance") }
            guard instances.keys.allSatisfy({ $0 != 65535 }) else {
                throw .badRequest("resource instance ID 65535 is reserved")
            }
            values = Array(instances.values)
        }
        for value in values where value.type != resource.type {
            throw .badRequest("resource \(resource.id) holds \(resource.type.rawValue), not \(value.type.rawValue)")
        }
    }

    /// Groups decoded `records` (resource or resource-instance paths of one object instance) into
    /// one content per resource ID, checked against `definition`: unknown resources, values of
    /// the wrong type, a value for a single resource given twice or as instances, or a bare value
    /// for a multi-instance resource are `.badRequest`.
    public static func grouping(_ records: [LwM2MRecord], definition: ObjectDefinition)
        throws(LwM2MError) -> [UInt16: ResourceContent]
    {
        var contents: [UInt16: ResourceContent] = [:]
        for record in records {
            guard record.path.objectID == definition.id, let resourceID = record.path.resourceID else {
                throw .badRequest("\(record.path) is not a resource of object \(definition.id)")
            }
            guard let resource = definition.resource(resourceID) else {
                throw .badRequest("object \(definition.id) has no resource \(resourceID)")
            }
            if let instanceID = record.path.resourceInstanceID {
                guard resource.isMultiple else {
                    throw .badRequest("resource \(record.path.parent) is single-instance")
                }
                guard case .multiple(var instances) = contents[resourceID] ?? .multiple([:]) else {
                    throw .badRequest("resource \(record.path.parent) given twice")
                }
                guard instances.updateValue(record.value, forKey: instanceID) == nil else {
                    throw .badRequest("resource instance \(record.path) given twice")
                }
                contents[resourceID] = .multiple(instances)
            } else {
                guard !resource.isMultiple else {
                    throw .badRequest("resource \(record.path) is multi-instance: values need instance IDs")
                }
                guard contents[resourceID] == nil else { throw .badRequest("resource \(record.path) given twice") }
                contents[resourceID] = .single(record.value)
            }
            try contents[resourceID]!.validate(against: resource)
        }
        return contents
    }
}
