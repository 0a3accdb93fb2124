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

/// One LwM2M object as the platform implements it: the single protocol a Device, Connectivity,
/// Firmware Update or sensor object conforms to. Class-bound so an implementation keeps its
/// state and can change it asynchronously (a sensor reading, a firmware download finishing),
/// telling the reporting layer through `changeHandler`.
///
/// Paths handed to these methods are already checked by `ObjectRegistry` and `RequestHandler`:
/// they name this object, an existing instance (except for `createInstance`), and a resource
/// the definition declares with the operation in question. Implementations still validate what
/// they rely on and throw `LwM2MError` rather than trap.
public protocol LwM2MObject: AnyObject {
    /// The object's definition (ID, resources and their operations and types).
    var definition: ObjectDefinition { get }

    /// The IDs of the existing object instances, ascending.
    var instanceIDs: [UInt16] { get }

    /// The IDs of the resources currently present in `instance` (holding a value, or executable),
    /// ascending; empty for an unknown instance.
    func resourceIDs(in instance: UInt16) -> [UInt16]

    /// The current content of the resource at `path` (`/o/i/r`), regardless of its Read
    /// operation: the registry decides what a server may read.
    func read(_ path: LwM2MPath) throws(LwM2MError) -> ResourceContent

    /// A server writes the resource at `path` (`/o/i/r`); `.multiple` replaces all instances.
    func write(_ path: LwM2MPath, _ content: ResourceContent) throws(LwM2MError)

    /// A server executes the resource at `path` (`/o/i/r`) with the Execute payload as
    /// `arguments` (TS 1.1 §5.4.5 argument syntax, not parsed here).
    func execute(_ path: LwM2MPath, arguments: [UInt8]) throws(LwM2MError)

    /// A server creates instance `id` holding `records` (resource and resource-instance paths
    /// under `/o/id`).
    func createInstance(_ id: UInt16, with records: [LwM2MRecord]) throws(LwM2MError)

    /// A server deletes instance `id`.
    func deleteInstance(_ id: UInt16) throws(LwM2MError)

    /// A Write-Replace of an instance removes the resource at `path` (`/o/i/r`, an optional
    /// writable resource the payload left out, TS 1.1 §6.3.3); the responder also calls it to
    /// undo a write to a resource that was absent before, when a later write failed.
    func removeResource(_ path: LwM2MPath) throws(LwM2MError)

    /// Called with the path of every value or instance that changed (set by `ObjectRegistry`
    /// when the object is registered). Implementations call it after each change, from
    /// whichever context owns the object.
    var changeHandler: ((LwM2MPath) -> Void)? { get set }
}

extension LwM2MObject {
    /// Read-only by default: a server's Write is refused with 4.05.
    public func write(_ path: LwM2MPath, _ content: ResourceContent) throws(LwM2MError) {
        throw .methodNotAllowed
    }

    /// Nothing executable by default: 4.05.
    public func execute(_ path: LwM2MPath, arguments: [UInt8]) throws(LwM2MError) {
        throw .methodNotAllowed
    }

    /// Fixed instances by default: 4.05.
    public func createInstance(_ id: UInt16, with records: [LwM2MRecord]) throws(LwM2MError) {
        throw .methodNotAllowed
    }

    /// Fixed instances by default: 4.05.
    public func deleteInstance(_ id: UInt16) throws(LwM2MError) {
        throw .methodNotAllowed
    }

    /// Fixed resources by default: 4.05 (a Write-Replace leaving out a present optional
    /// resource then fails as a whole).
    public func removeResource(_ path: LwM2MPath) throws(LwM2MError) {
        throw .methodNotAllowed
    }
}
