/// The client's objects by ID: what a server can reach through the Device Management
/// interface. Answers Read (`records(at:)`) and Discover (`linkEntries(at:)`) for any depth,
/// enforcing the definitions' Read operation, and collects the paths objects report as
/// changed for the reporting (Observe/Notify) layer to drain with `takeChanges()`.
///
/// Not thread-safe: use it from the one context that runs the agent's protocol loop.
public final class ObjectRegistry {
    private var objects: [UInt16: any LwM2MObject] = [:]
    /// Changed paths in the order first reported since the last `takeChanges()`, no repeats.
    public private(set) var changedPaths: [LwM2MPath] = []
    /// The type information of every registered object, for decoding payloads.
    public private(set) var schema = ResourceSchema([])

    /// An empty registry.
    public init() {}

    /// Registers `object` under its definition's ID (replacing, and disconnecting, any object
    /// with that ID) and routes its change reports into `changedPaths`; the object's path is
    /// reported as changed (the registration's object links change).
    public func register(_ object: any LwM2MObject) {
        objects[object.definition.id]?.changeHandler = nil
        objects[object.definition.id] = object
        object.changeHandler = { [weak self] path in self?.recordChange(path) }
        schema = ResourceSchema(objects.keys.sorted().compactMap { objects[$0]?.definition })
        recordChange(LwM2MPath(object.definition.id))
    }

    /// The object with `id`, if registered.
    public func object(_ id: UInt16) -> (any LwM2MObject)? { objects[id] }

    /// The registered object IDs, ascending.
    public var objectIDs: [UInt16] { objects.keys.sorted() }

    /// Notes that the value or instance at `path` changed (objects call this through their
    /// `changeHandler`).
    public func recordChange(_ path: LwM2MPath) {
        if !changedPaths.contains(path) { changedPaths.append(path) }
    }

    /// The changed paths reported since the last call, in order; empties the queue.
    public func takeChanges() -> [LwM2MPath] {
        defer { changedPaths = [] }
        return changedPaths
    }

    // MARK: - Read

    /// The readable values at `path`, as leaf records in path order.
    ///
    /// - Object or instance: every present resource whose definition allows Read (others are
    ///   skipped, TS 1.1 §6.3.1).
    /// - Resource or resource instance: `.methodNotAllowed` when the resource is not readable.
    /// - `.notFound` for an unregistered object, a missing instance, resource or resource
    ///   instance; `.methodNotAllowed` for the root.
    public func records(at path: LwM2MPath) throws(LwM2MError) -> [LwM2MRecord] {
        let object = try target(path)
        object.beginReading()
        defer { object.endReading() }
        switch path.kind {
        case .root:
            throw .methodNotAllowed
        case .object(let objectID):
            var records: [LwM2MRecord] = []
            for instance in object.instanceIDs {
                records += try instanceRecords(object, InstancePath(objectID, instance))
            }
            return records
        case .instance(let instance):
            return try instanceRecords(object, instance)
        case .resource(let resourcePath):
            let resource = try presentResource(object, resourcePath)
            guard resource.operations.contains(.read) else { throw .methodNotAllowed }
            return try object.read(path).records(at: path)
        case .resourceInstance(let resourcePath, let id):
            let resource = try presentResource(object, resourcePath)
            guard resource.isMultiple else { throw .notFound }
            guard resource.operations.contains(.read) else { throw .methodNotAllowed }
            guard case .multiple(let instances) = try object.read(resourcePath.path),
                  let value = instances[id] else { throw .notFound }
            return [LwM2MRecord(path, value)]
        }
    }

    /// The readable resources of the instance `instance`.
    private func instanceRecords(_ object: any LwM2MObject, _ instance: InstancePath) throws(LwM2MError) -> [LwM2MRecord] {
        let ids = object.resourceIDs(in: instance.instanceID)
        let definition = object.definition
        // A StaticObject hands over the instance's contents at once: one hash per resource.
        let contents = (object as? StaticObject)?.contents(of: instance.instanceID)
        var records: [LwM2MRecord] = []
        records.reserveCapacity(ids.count + 8)
        for id in ids {
            guard let resource = definition.resource(id), resource.operations.contains(.read) else { continue }
            let resourcePath = instance.appending(id).path
            if let content = contents?[id] {
                content.appendRecords(at: resourcePath, to: &records)
            } else {
                try object.read(resourcePath).appendRecords(at: resourcePath, to: &records)
            }
        }
        return records
    }

    // MARK: - Discover

    /// The Discover answer for `path` (TS 1.1 §5.4.2): the target itself, then every instance
    /// and present resource below it; a multi-instance resource carries `dim` = its number of
    /// instances. `</3/0>,</3/0/1>,</3/0/7>;dim=2`. Resources are listed whatever their
    /// operations. Attributes (pmin, gt …) live in an `AttributeStore` and are added by the
    /// RequestHandler (RequestHandler+Attributes.swift). The root and resource instances
    /// are `.badRequest` (Bootstrap-Discover is another interface); missing targets `.notFound`.
    public func linkEntries(at path: LwM2MPath) throws(LwM2MError) -> [LinkEntry] {
        switch path.kind {
        case .resourceInstance: throw .badRequest("Discover cannot target a resource instance")
        case .root: throw .badRequest("Discover on the root is a Bootstrap operation")
        case .object(let objectID):
            let object = try target(path)
            var entries = [LinkEntry(path: path)]
            for instance in object.instanceIDs {
                entries += try instanceEntries(object, InstancePath(objectID, instance))
            }
            return entries
        case .instance(let instance):
            return try instanceEntries(try target(path), instance)
        case .resource(let resource):
            let object = try target(path)
            return [try resourceEntry(object, path, try presentResource(object, resource))]
        }
    }

    private func instanceEntries(_ object: any LwM2MObject, _ instance: InstancePath) throws(LwM2MError) -> [LinkEntry] {
        var entries = [LinkEntry(path: instance.path)]
        for id in object.resourceIDs(in: instance.instanceID) {
            guard let resource = object.definition.resource(id) else { continue }
            entries.append(try resourceEntry(object, instance.appending(id).path, resource))
        }
        return entries
    }

    private func resourceEntry(_ object: any LwM2MObject, _ path: LwM2MPath,
                               _ resource: ResourceDefinition) throws(LwM2MError) -> LinkEntry {
        guard resource.isMultiple, case .multiple(let instances) = try object.read(path) else {
            return LinkEntry(path: path)
        }
        return LinkEntry(path: path, attributes: [LinkAttribute("dim", String(instances.count))])
    }

    // MARK: - Lookup

    /// The object `path` names, checking that its instance (if any) exists. The root is
    /// `.methodNotAllowed`.
    func target(_ path: LwM2MPath) throws(LwM2MError) -> any LwM2MObject {
        guard let objectID = path.objectID else { throw .methodNotAllowed }
        guard let object = objects[objectID] else { throw .notFound }
        if let instance = path.instanceID, !object.instanceIDs.contains(instance) { throw .notFound }
        return object
    }

    /// The definition of resource `path` when the object defines it and the instance currently
    /// holds it; `.notFound` otherwise.
    func presentResource(_ object: any LwM2MObject, _ path: ResourcePath) throws(LwM2MError) -> ResourceDefinition {
        guard let resource = object.definition.resource(path.resourceID),
              object.resourceIDs(in: path.instanceID).contains(path.resourceID) else { throw .notFound }
        return resource
    }
}
