import CoAP

// Read-Composite, Observe-Composite (FETCH) and Write-Composite (iPATCH) with SenML JSON (110)
// or SenML CBOR (112), TS 1.1 §6.3.8, §6.3.9 and §6.4.

extension RequestHandler {
    /// The content formats of composite operations: SenML JSON and SenML CBOR.
    public static let compositeFormats: [UInt16] = [ContentFormat.senmlCBOR, ContentFormat.senmlJSON]

    /// The path list of a Read-Composite or Observe-Composite request (FETCH on `/` whose
    /// payload lists names only: `[{"n":"/3/0/0"},{"n":"/1/0"}]`). A Content-Format other than
    /// SenML JSON / CBOR is 4.15, an undecodable or empty list 4.00.
    public static func compositePaths(of message: CoAPMessage) throws(LwM2MError) -> [LwM2MPath] {
        guard let format = message.contentFormat, compositeFormats.contains(format) else {
            throw .unsupportedContentFormat
        }
        let paths: [LwM2MPath]
        do {
            paths = format == ContentFormat.senmlJSON
                ? try SenMLJSON.decodePaths(message.payload) : try SenMLCBOR.decodePaths(message.payload)
        } catch let error as ContentFormatError {
            throw LwM2MError(error)
        } catch {
            throw .badRequest("\(error)")
        }
        guard !paths.isEmpty else { throw .badRequest("a composite request lists at least one path") }
        return paths
    }

    /// The format of a composite answer: the Accept option when it is SenML JSON or CBOR (4.06
    /// for anything else), otherwise the request's own format.
    public static func compositeResponseFormat(of message: CoAPMessage) throws(LwM2MError) -> UInt16 {
        if let accept = message.accept {
            guard compositeFormats.contains(accept) else { throw .notAcceptable }
            return accept
        }
        return message.contentFormat.flatMap { compositeFormats.contains($0) ? $0 : nil } ?? ContentFormat.senmlCBOR
    }

    /// The records of every path of a composite read, in the order of the list, each record
    /// once. Paths that do not exist are left out (4.04 only when none of them exists); the
    /// root stands for every object a management server may read; the Security and OSCORE
    /// objects are 4.01, and so are instances the server may not read under access control.
    static func compositeRecords(_ paths: [LwM2MPath], _ registry: ObjectRegistry, _ access: AccessControl?)
        throws(LwM2MError) -> [LwM2MRecord]
    {
        var records: [LwM2MRecord] = []
        var seen: Set<LwM2MPath> = []
        var found = false
        for requested in paths {
            let targets = requested.isRoot
                ? registry.objectIDs.filter { !bootstrapOnlyObjects.contains($0) }.map { LwM2MPath($0) } : [requested]
            for path in targets {
                if let objectID = path.objectID, bootstrapOnlyObjects.contains(objectID) { throw .unauthorized }
                let part: [LwM2MRecord]
                do throws(LwM2MError) {
                    if let access, path.depth >= 2 {
                        _ = try registry.target(path)
                        try access.require(.read, at: path)
                    }
                    part = try readableRecords(path, registry, access)
                } catch .notFound {
                    continue
                }
                found = true
                for record in part where seen.insert(record.path).inserted { records.append(record) }
            }
        }
        guard found else { throw .notFound }
        return records
    }

    /// Encodes composite records in SenML JSON or CBOR, names absolute or relative to a base
    /// name per object instance.
    public static func encodeComposite(_ records: [LwM2MRecord], format: UInt16) throws(LwM2MError) -> [UInt8] {
        do {
            if format == ContentFormat.senmlJSON { return try SenMLJSON.encodeComposite(records) }
            return try SenMLCBOR.encode(records, base: .none)
        } catch {
            throw .internalError("cannot encode the composite answer: \(error)")
        }
    }

    /// Read-Composite (and the first answer of Observe-Composite): FETCH on `/`.
    func readComposite(_ message: CoAPMessage, _ path: LwM2MPath, _ registry: ObjectRegistry,
                       _ access: AccessControl?) throws(LwM2MError) -> CoAPResponse
    {
        guard path.isRoot else { throw .methodNotAllowed }
        let paths = try Self.compositePaths(of: message)
        let format = try Self.compositeResponseFormat(of: message)
        let records = try Self.compositeRecords(paths, registry, access)
        return CoAPResponse(.content, contentFormat: format, payload: try Self.encodeComposite(records, format: format))
    }

    /// Write-Composite: iPATCH on `/` with SenML records of resources and resource instances,
    /// possibly of several objects. Each resource is written as a partial update would
    /// (resource instances merge into a multi-instance resource); every target must exist
    /// (4.04), be writable (4.05) and, under access control, be writable by the server (4.01).
    /// All or nothing: validated first, undone if an object fails part-way.
    func writeComposite(_ message: CoAPMessage, _ path: LwM2MPath, _ registry: ObjectRegistry,
                        _ access: AccessControl?) throws(LwM2MError) -> CoAPResponse
    {
        guard path.isRoot else { throw .methodNotAllowed }
        guard let format = message.contentFormat, Self.compositeFormats.contains(format) else {
            throw .unsupportedContentFormat
        }
        let records = try decode(message, base: .root, registry)
        guard !records.isEmpty else { throw .badRequest("a Write-Composite carries at least one value") }
        // (The SenML decoders yield resource and resource-instance records only; anything else
        // is a malformed request, not a reason to trap.)
        var byInstance: [InstancePath: [LwM2MRecord]] = [:]
        for record in records {
            guard let resource = record.path.resourcePath else {
                throw .badRequest("\(record.path) is not a resource or resource instance")
            }
            byInstance[resource.instance, default: []].append(record)
        }
        var changes: [ResourceChange] = []
        for (instancePath, instanceRecords) in byInstance.sorted(by: { $0.key < $1.key }) {
            if Self.bootstrapOnlyObjects.contains(instancePath.objectID) { throw .unauthorized }
            let object = try registry.target(instancePath.path)
            if let access { try access.require(.write, at: instancePath.path) }
            for record in instanceRecords {
                guard let id = record.path.resourceID, object.definition.resource(id) != nil else { throw .notFound }
            }
            let contents = try ResourceContent.grouping(instanceRecords, definition: object.definition)
            changes += try Self.resourceChanges(contents, object, instancePath, merging: true)
        }
        try Self.apply(changes, registry)
        return CoAPResponse(.changed)
    }
}
