/// An object whose values live in memory: instances → resources → content. The agent fills and
/// updates it with `set`; a server reads it, writes its writable resources, executes the
/// resources given an `onExecute` handler and — for a multi-instance object — creates and
/// deletes instances. Every change, from either side, is reported through `changeHandler`.
public final class StaticObject: LwM2MObject {
    /// Runs an Execute on a resource: the object instance ID and the Execute arguments. Runs
    /// before the response is sent, so long work (a reboot) must be scheduled, not done here.
    public typealias ExecuteHandler = (_ instance: UInt16, _ arguments: [UInt8]) throws(LwM2MError) -> Void

    /// The definition whose operations a server's requests are checked against.
    public let definition: ObjectDefinition
    /// Set by `ObjectRegistry.register`; called after every change from either side.
    public var changeHandler: ((LwM2MPath) -> Void)?

    private var instances: [UInt16: [UInt16: ResourceContent]] = [:]
    private var executeHandlers: [UInt16: ExecuteHandler] = [:]

    /// An object of `definition` with empty instances `instanceIDs`.
    public init(definition: ObjectDefinition, instanceIDs: [UInt16] = []) {
        self.definition = definition
        for id in instanceIDs where id != 65535 { instances[id] = [:] }
    }

    // MARK: - LwM2MObject

    public var instanceIDs: [UInt16] { instances.keys.sorted() }

    public func resourceIDs(in instance: UInt16) -> [UInt16] {
        guard let resources = instances[instance] else { return [] }
        // Runs on every read: an array and one sort, no Set.
        var ids = Array(resources.keys)
        for id in executeHandlers.keys where resources[id] == nil
            && definition.resource(id)?.operations.contains(.execute) == true { ids.append(id) }
        return ids.sorted()
    }

    /// The resources of `instance` in one lookup, for `ObjectRegistry` reading a whole instance
    /// (`read` hashes twice per resource).
    func contents(of instance: UInt16) -> [UInt16: ResourceContent]? { instances[instance] }

    public func read(_ path: LwM2MPath) throws(LwM2MError) -> ResourceContent {
        let (instance, resource) = try ids(of: path)
        guard let content = instances[instance]?[resource] else { throw .notFound }
        return content
    }

    /// Writes a resource declared writable; anything else is 4.05.
    public func write(_ path: LwM2MPath, _ content: ResourceContent) throws(LwM2MError) {
        let (instance, resourceID) = try ids(of: path)
        guard instances[instance] != nil, let resource = definition.resource(resourceID) else { throw .notFound }
        guard resource.operations.contains(.write) else { throw .methodNotAllowed }
        try content.validate(against: resource)
        instances[instance]![resourceID] = content
        changeHandler?(path)
    }

    /// Runs the resource's `onExecute` handler; a resource not declared executable is 4.05, an
    /// executable one without a handler 4.04.
    public func execute(_ path: LwM2MPath, arguments: [UInt8]) throws(LwM2MError) {
        let (instance, resourceID) = try ids(of: path)
        guard instances[instance] != nil, let resource = definition.resource(resourceID) else { throw .notFound }
        guard resource.operations.contains(.execute) else { throw .methodNotAllowed }
        guard let handler = executeHandlers[resourceID] else { throw .notFound }
        try handler(instance, arguments)
    }

    /// Creates an instance of a multi-instance object (4.05 for a single-instance one) from the
    /// given records; an existing ID or records that do not fit the definition are 4.00.
    public func createInstance(_ id: UInt16, with records: [LwM2MRecord]) throws(LwM2MError) {
        guard definition.isMultiple else { throw .methodNotAllowed }
        guard id != 65535 else { throw .badRequest("instance ID 65535 is reserved") }
        guard instances[id] == nil else { throw .badRequest("instance /\(definition.id)/\(id) already exists") }
        for record in records where record.path.instanceID != id {
            throw .badRequest("\(record.path) lies outside the new instance /\(definition.id)/\(id)")
        }
        instances[id] = try ResourceContent.grouping(records, definition: definition)
        changeHandler?(LwM2MPath(definition.id, id))
    }

    /// Deletes an instance of a multi-instance object (4.05 for a single-instance one).
    public func deleteInstance(_ id: UInt16) throws(LwM2MError) {
        guard definition.isMultiple else { throw .methodNotAllowed }
        guard instances.removeValue(forKey: id) != nil else { throw .notFound }
        changeHandler?(LwM2MPath(definition.id, id))
    }

    // MARK: - Agent side (no operation checks)

    /// Sets the resource at `path` (`/o/i/r`) whatever its operations — the agent updating a
    /// read-only value — creating the instance if needed, and reports the change. The content
    /// must fit the resource's definition (`.badRequest` otherwise; `.notFound` for a path
    /// outside this object's resources).
    public func set(_ path: LwM2MPath, _ content: ResourceContent) throws(LwM2MError) {
        let (instance, resourceID) = try ids(of: path)
        guard let resource = definition.resource(resourceID) else { throw .notFound }
        try content.validate(against: resource)
        guard instance != 65535 else { throw .badRequest("instance ID 65535 is reserved") }
        instances[instance, default: [:]][resourceID] = content
        changeHandler?(path)
    }

    /// Sets a single-instance resource (`/o/i/r`) to `value`.
    public func set(_ path: LwM2MPath, _ value: ResourceValue) throws(LwM2MError) {
        try set(path, .single(value))
    }

    /// Removes the resource at `path` (`/o/i/r`) from its instance, reporting the change.
    public func removeResource(_ path: LwM2MPath) {
        guard let target = try? ids(of: path),
              instances[target.0]?.removeValue(forKey: target.1) != nil else { return }
        changeHandler?(path)
    }

    /// Adds an empty instance `id` (no-op if it exists), reporting the change.
    public func addInstance(_ id: UInt16) {
        guard id != 65535, instances[id] == nil else { return }
        instances[id] = [:]
        changeHandler?(LwM2MPath(definition.id, id))
    }

    /// Removes instance `id` (no-op if absent), reporting the change.
    public func removeInstance(_ id: UInt16) {
        guard instances.removeValue(forKey: id) != nil else { return }
        changeHandler?(LwM2MPath(definition.id, id))
    }

    /// Makes resource `resourceID` (declared executable) run `handler` on Execute, in every
    /// instance. The resource then shows in Discover.
    public func onExecute(_ resourceID: UInt16, _ handler: @escaping ExecuteHandler) {
        executeHandlers[resourceID] = handler
    }

    // MARK: - Helpers

    /// The instance and resource IDs of a resource path of this object.
    private func ids(of path: LwM2MPath) throws(LwM2MError) -> (UInt16, UInt16) {
        guard path.isResource, path.objectID == definition.id, let instance = path.instanceID,
              let resource = path.resourceID else { throw .notFound }
        return (instance, resource)
    }
}
