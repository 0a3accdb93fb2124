import CoAP

// Write (replace and partial update), Create and Delete (TS 1.1 §6.3.3, §6.3.5, §6.3.6), and
// the all-or-nothing application of a set of resource changes shared with Write-Composite.

extension RequestHandler {
    /// One resource change: the resource and its new content, nil to remove it.
    typealias ResourceChange = (path: ResourcePath, content: ResourceContent?)

    /// Write on an instance, resource or resource instance. `partial` (POST on an instance) and
    /// writes of one resource instance merge into a multi-instance resource's instances; a
    /// replace of a resource replaces them all. A replace of an instance (PUT `/o/i`) replaces
    /// the instance: writable resources the payload leaves out are removed, and a mandatory
    /// writable one left out is 4.00. Everything is validated before anything is written, and a
    /// platform object failing part-way has the earlier writes undone.
    func write(_ message: CoAPMessage, _ path: LwM2MPath, _ registry: ObjectRegistry, partial: Bool)
        throws(LwM2MError) -> CoAPResponse
    {
        let instancePath: InstancePath
        var target: ResourceDefinition? = nil  // the resource written, below instance level
        switch path.kind {
        case .root, .object: throw .methodNotAllowed
        case .instance(let instance): instancePath = instance
        case .resource(let resource), .resourceInstance(let resource, _): instancePath = resource.instance
        }
        let object = try registry.target(path)
        let definition = object.definition
        if let resourcePath = path.resourcePath {
            guard let resource = definition.resource(resourcePath.resourceID) else { throw .notFound }
            guard path.isResource || resource.isMultiple else { throw .notFound }
            guard resource.operations.contains(.write) else { throw .methodNotAllowed }
            target = resource
        }
        let records = try decode(message, base: path, registry)
        for record in records where !path.contains(record.path) || record.path.depth < 3 {
            throw .badRequest("\(record.path) lies outside \(path)")
        }
        var contents = try ResourceContent.grouping(records, definition: definition)
        if path.isResource, contents.isEmpty, let target, target.isMultiple {
            contents[target.id] = .multiple([:])  // an empty multiple resource
        }
        if target != nil, contents.isEmpty { throw .badRequest("no value for \(path)") }
        let changes = try Self.resourceChanges(contents, object, instancePath, merging: partial || path.depth == 4)
        var removals: [ResourceChange] = []
        if !partial, path.depth == 2 {
            let present = object.resourceIDs(in: instancePath.instanceID)
            for resource in definition.resources where resource.operations.contains(.write) && contents[resource.id] == nil {
                if resource.isMandatory {
                    throw .badRequest("a replace of \(path) needs mandatory resource \(resource.id)")
                }
                if present.contains(resource.id) { removals.append((instancePath.appending(resource.id), nil)) }
            }
        }
        try Self.apply((changes + removals).sorted { $0.path < $1.path }, registry)
        return CoAPResponse(.changed)
    }

    /// The changes writing `contents` into instance `instancePath` of `object`: each resource
    /// must be writable (4.05); with `merging`, resource instances are merged into the existing
    /// ones of a multi-instance resource instead of replacing them.
    static func resourceChanges(_ contents: [UInt16: ResourceContent], _ object: any LwM2MObject,
                                _ instancePath: InstancePath, merging: Bool) throws(LwM2MError) -> [ResourceChange]
    {
        var changes: [ResourceChange] = []
        for id in contents.keys.sorted() {
            guard let resource = object.definition.resource(id), resource.operations.contains(.write) else {
                throw .methodNotAllowed
            }
            var content = contents[id]!
            if merging, case .multiple(let added) = content,
               object.resourceIDs(in: instancePath.instanceID).contains(id),
               case .multiple(let existing) = try object.read(instancePath.appending(id).path) {
                content = .multiple(existing.merging(added) { _, new in new })
            }
            changes.append((instancePath.appending(id), content))
        }
        return changes
    }

    /// Applies `changes` in order, all or nothing: the content of each resource is kept before
    /// it is written or removed, and when an object throws, the resources already changed get
    /// their old content back (or are removed again) in reverse order; then the error is
    /// rethrown.
    static func apply(_ changes: [ResourceChange], _ registry: ObjectRegistry) throws(LwM2MError) {
        var undo: [(object: any LwM2MObject, path: LwM2MPath, before: ResourceContent?)] = []
        for change in changes {
            let path = change.path.path
            let object = try registry.target(path)
            let before: ResourceContent? = object.resourceIDs(in: change.path.instanceID).contains(change.path.resourceID)
                ? try? object.read(path) : nil
            do throws(LwM2MError) {
                if let content = change.content {
                    try object.write(path, content)
                } else if before != nil {
                    try object.removeResource(path)
                }
                undo.append((object, path, before))
            } catch {
                for step in undo.reversed() {
                    if let before = step.before {
                        try? step.object.write(step.path, before)
                    } else {
                        try? step.object.removeResource(step.path)
                    }
                }
                throw error
            }
        }
    }

    /// Decodes a Write or Create payload for `base` in its Content-Format.
    func decode(_ message: CoAPMessage, base: LwM2MPath, _ registry: ObjectRegistry,
                implicitInstanceID: UInt16? = nil) throws(LwM2MError) -> [LwM2MRecord] {
        guard let format = message.contentFormat, Self.writableFormats.contains(format) else {
            throw .unsupportedContentFormat
        }
        do throws(ContentFormatError) {
            return try PayloadCodec.decode(message.payload, base: base, format: format, schema: registry.schema,
                                           implicitInstanceID: implicitInstanceID)
        } catch {
            throw LwM2MError(error)
        }
    }

    // MARK: - Create, Delete

    /// Create on `/o`: the instance ID comes from the payload (an object-instance TLV, SenML
    /// names) or is the lowest free one; the answer's Location-Path is `o/i`. An existing ID,
    /// or a payload without every mandatory writable resource, is 4.00. With `owner` (access
    /// control in force), the creating server gets an ACL instance for the new instance.
    func create(_ message: CoAPMessage, _ path: LwM2MPath, _ registry: ObjectRegistry, owner: UInt16?)
        throws(LwM2MError) -> CoAPResponse
    {
        guard case .object(let objectID) = path.kind else { throw .methodNotAllowed }
        let object = try registry.target(path)
        guard object.definition.isMultiple else { throw .methodNotAllowed }
        let existing = object.instanceIDs
        guard let free = Self.lowestFreeID(existing) else { throw .badRequest("no free instance ID") }
        var records: [LwM2MRecord] = []
        if !message.payload.isEmpty || message.contentFormat != nil {
            records = try decode(message, base: path, registry, implicitInstanceID: free)
        }
        let ids = Set(records.map { $0.path.instanceID })
        guard ids.count <= 1 else { throw .badRequest("a Create carries one object instance") }
        guard records.allSatisfy({ $0.path.depth >= 3 }) else { throw .badRequest("a Create carries resource values") }
        let id = ids.first.flatMap { $0 } ?? free
        guard !existing.contains(id) else { throw .badRequest("instance /\(objectID)/\(id) already exists") }
        let contents = try ResourceContent.grouping(records, definition: object.definition)
        for resource in object.definition.resources
        where resource.isMandatory && resource.operations.contains(.write) && contents[resource.id] == nil {
            throw .badRequest("a Create of /\(objectID) needs mandatory resource \(resource.id)")
        }
        try object.createInstance(id, with: records)
        if let owner {
            do throws(LwM2MError) {
                try AccessControl.grantOwnership(of: objectID, id, to: owner, registry: registry)
            } catch {
                try? object.deleteInstance(id)
                throw .internalError("cannot create the Access Control instance: \(error)")
            }
        }
        return CoAPResponse(.created, options: [
            CoAPOption(.locationPath, string: String(objectID)),
            CoAPOption(.locationPath, string: String(id)),
        ])
    }

    /// Delete of an instance; the ACL instances covering it go with it.
    func delete(_ path: LwM2MPath, _ registry: ObjectRegistry) throws(LwM2MError) -> CoAPResponse {
        guard case .instance(let instance) = path.kind else { throw .methodNotAllowed }
        try registry.target(path).deleteInstance(instance.instanceID)
        if instance.objectID != AccessControl.objectID {
            AccessControl.removeEntries(for: instance.objectID, instance.instanceID, registry: registry)
        }
        return CoAPResponse(.deleted)
    }
}
