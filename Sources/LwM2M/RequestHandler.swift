import CoAP

// TODO(issue 3): still missing from the Device Management & Information Reporting interfaces:
// - Observe / Cancel Observation / Notify: this handler answers the registering GET as a plain
//   Read; `ReportingEngine` owns the observations and decides the notifications (pmin, pmax,
//   gt, lt, st, epmin, epmax) from `ObjectRegistry.takeChanges()`. Still missing: storing
//   notifications while offline (/1/x/6), Default Maximum Period capping a longer per-path
//   pmax, attributes per server (one `AttributeStore` for now), and gt/lt/st on an observed
//   multi-instance resource (they filter single numeric values only).
// - Write-Attributes and attributes in Discover need `handle(_:registry:attributes:)` (one
//   `AttributeStore`, i.e. one server); the store-less `handle(_:registry:)` answers 5.01.
// - Read-Composite, Write-Composite, Observe-Composite (FETCH / iPATCH with SenML): answered 4.05.
// - Access Control (object 2) and per-server rights (4.01 Unauthorized): every request is
//   allowed; the handler does not know which server asked.
// - Bootstrap interface (Bootstrap-Write/Read/Discover/Delete on `/`, Bootstrap-Finish).
// - Write Replace on an instance should also drop writable resources absent from the payload;
//   for now every record is written and the rest kept. Create does not check mandatory
//   resources.
// - Execute argument syntax (TS 1.1 §5.4.5) is not validated; the raw payload is passed on.
// - A Write spanning several resources is validated first but not rolled back if a platform
//   object fails part-way.
// - Send (LwM2M 1.1 Information Reporting), and LwM2M 1.2 additions (Discover depth, …).

/// Answers the Device Management requests of an LwM2M server (TS 1.1 §6.3) against an
/// `ObjectRegistry`. Sans-IO: one CoAP request in, one response out.
///
/// | Request                      | Operation                         | Success |
/// |------------------------------|-----------------------------------|---------|
/// | GET, Accept ≠ 40             | Read object/instance/resource/ri  | 2.05    |
/// | GET, Accept 40               | Discover object/instance/resource | 2.05    |
/// | PUT on instance/resource/ri  | Write (replace)                   | 2.04    |
/// | PUT with Uri-Query, o/i/r/ri | Write-Attributes                  | 2.04    |
/// | POST on instance             | Write (partial update)            | 2.04    |
/// | POST on resource             | Execute (payload = arguments)     | 2.04    |
/// | POST on object               | Create (Location-Path `o/i`)      | 2.01    |
/// | DELETE on instance           | Delete                            | 2.02    |
///
/// Errors: a Uri-Path that is not an LwM2M path (non-numeric or zero-padded segment, an ID
/// over 65534, more than four segments) is 4.00 Bad Request — the request is malformed for
/// this interface rather than naming a missing object. Missing targets are 4.04; operations
/// the target or its definition does not allow, and methods no operation maps to, are 4.05;
/// a missing or unreadable Content-Format is 4.15; a payload that does not decode or does not
/// fit the definition is 4.00 (and nothing is written); a Read no accepted format can carry
/// is 4.06.
public struct RequestHandler: Sendable {
    /// Content formats a Write or Create payload may use.
    public static let writableFormats: [UInt16] =
        PayloadCodec.hierarchicalFormats + [ContentFormat.textPlain, ContentFormat.octetStream]

    /// Objects a management server may never read, write, discover or observe.
    public static let bootstrapOnlyObjects: Set<UInt16> = [0, 21]

    /// A handler (stateless: the state lives in the registry).
    public init() {}

    /// The response to `message` (a request from an LwM2M server), after applying it to
    /// `registry`. Never traps on bad input: every failure is an error response. Without an
    /// attribute store, Write-Attributes is 5.01 and Discover lists no notification attributes.
    public func handle(_ message: CoAPMessage, registry: ObjectRegistry) -> CoAPResponse {
        var none: AttributeStore? = nil
        return respond(message, registry, &none)
    }

    /// The response to `message`, after applying it to `registry` and `attributes`:
    /// Write-Attributes (PUT with Uri-Query) stores into `attributes`, Discover lists the
    /// attributes attached at each path, and a Delete forgets the attributes under the instance.
    public func handle(_ message: CoAPMessage, registry: ObjectRegistry, attributes: inout AttributeStore)
        -> CoAPResponse
    {
        var store: AttributeStore? = attributes
        attributes = AttributeStore()  // keep the store uniquely referenced while it is edited
        defer { attributes = store! }
        return respond(message, registry, &store)
    }

    private func respond(_ message: CoAPMessage, _ registry: ObjectRegistry, _ attributes: inout AttributeStore?)
        -> CoAPResponse
    {
        guard let path = LwM2MPath(segments: message.uriPath) else {
            return .error(.badRequest, "bad request: \"\(message.path)\" is not an LwM2M path")
        }
        // The Security (0) and OSCORE (21) objects hold credentials: only the Bootstrap
        // interface may touch them (the object definitions give their resources no R/W/E
        // operations), never a management server; secrets are never serialized here.
        if let objectID = path.objectID, Self.bootstrapOnlyObjects.contains(objectID) {
            return LwM2MError.unauthorized.response
        }
        do throws(LwM2MError) {
            switch message.code {
            case .get:
                if message.accept == ContentFormat.linkFormat { return try discover(path, registry, attributes) }
                return try read(path, accept: message.accept, registry)
            case .put:
                if !message.uriQuery.isEmpty {
                    guard attributes != nil else { throw .notImplemented("Write-Attributes") }
                    return try writeAttributes(message, path, registry, &attributes!)
                }
                return try write(message, path, registry, partial: false)
            case .post:
                switch path.depth {
                case 1: return try create(message, path, registry)
                case 2: return try write(message, path, registry, partial: true)
                case 3: return try execute(message, path, registry)
                default: throw .methodNotAllowed
                }
            case .delete:
                let response = try delete(path, registry)
                attributes?.removeAll(under: path)
                return response
            default:
                throw .methodNotAllowed
            }
        } catch {
            return error.response
        }
    }

    // MARK: - Read and Discover

    private func read(_ path: LwM2MPath, accept: UInt16?, _ registry: ObjectRegistry) throws(LwM2MError)
        -> CoAPResponse
    {
        let records = try registry.records(at: path)
        let singleValue = path.depth == 4 || (path.depth == 3 && !registry.schema.isMultiple(path))
        guard let format = PayloadCodec.responseFormat(accept: accept, base: path, schema: registry.schema,
                                                       singleValue: singleValue) else { throw .notAcceptable }
        // Text and opaque carry one value: not a multi-instance resource.
        if !singleValue, format == ContentFormat.textPlain || format == ContentFormat.octetStream {
            throw .notAcceptable
        }
        do throws(ContentFormatError) {
            let payload = try PayloadCodec.encode(records, base: path, format: format)
            return CoAPResponse(.content, contentFormat: format, payload: payload)
        } catch {
            throw .internalError("cannot encode \(path): \(error)")
        }
    }

    private func discover(_ path: LwM2MPath, _ registry: ObjectRegistry, _ attributes: AttributeStore?)
        throws(LwM2MError) -> CoAPResponse
    {
        var entries = try registry.linkEntries(at: path)
        if let attributes { entries = Self.attaching(attributes, to: entries, target: path) }
        do throws(ContentFormatError) {
            return CoAPResponse(.content, contentFormat: ContentFormat.linkFormat, payload: try LinkFormat.encode(entries))
        } catch {
            throw .internalError("cannot encode the Discover answer: \(error)")
        }
    }

    // MARK: - Write

    /// Write on an instance, resource or resource instance. `partial` (POST on an instance) and
    /// writes of one resource instance merge into a multi-instance resource's instances; a
    /// replace of a resource replaces them all.
    private func write(_ message: CoAPMessage, _ path: LwM2MPath, _ registry: ObjectRegistry, partial: Bool)
        throws(LwM2MError) -> CoAPResponse
    {
        guard path.depth >= 2 else { throw .methodNotAllowed }
        let object = try registry.target(path)
        let definition = object.definition
        if path.depth >= 3 {
            guard let resource = definition.resource(path.resourceID!) else { throw .notFound }
            guard path.depth == 3 || resource.isMultiple else { throw .notFound }
            guard resource.operations.contains(.write) else { throw .methodNotAllowed }
        }
        let records = try decode(message, base: path, registry)
        for record in records where !path.contains(record.path) || record.path.depth < 3 {
            throw .badRequest("\(record.path) lies outside \(path)")
        }
        var contents = try ResourceContent.grouping(records, definition: definition)
        if path.depth == 3, contents.isEmpty, definition.resource(path.resourceID!)?.isMultiple == true {
            contents[path.resourceID!] = .multiple([:])  // an empty multiple resource
        }
        if path.depth >= 3, contents.isEmpty { throw .badRequest("no value for \(path)") }
        let instancePath = LwM2MPath(path.objectID!, path.instanceID!)
        for (id, content) in contents {
            guard let resource = definition.resource(id), resource.operations.contains(.write) else {
                throw .methodNotAllowed
            }
            guard partial || path.depth == 4, case .multiple(let added) = content,
                  object.resourceIDs(in: path.instanceID!).contains(id),
                  case .multiple(let existing) = try object.read(instancePath.appending(id)) else { continue }
            contents[id] = .multiple(existing.merging(added) { _, new in new })
        }
        for id in contents.keys.sorted() {
            try object.write(instancePath.appending(id), contents[id]!)
        }
        return CoAPResponse(.changed)
    }

    /// Decodes a Write or Create payload for `base` in its Content-Format.
    private func decode(_ message: CoAPMessage, base: LwM2MPath, _ registry: ObjectRegistry,
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

    // MARK: - Execute, Create, Delete

    private func execute(_ message: CoAPMessage, _ path: LwM2MPath, _ registry: ObjectRegistry)
        throws(LwM2MError) -> CoAPResponse
    {
        let object = try registry.target(path)
        guard let resource = object.definition.resource(path.resourceID!) else { throw .notFound }
        guard resource.operations.contains(.execute) else { throw .methodNotAllowed }
        try object.execute(path, arguments: message.payload)
        return CoAPResponse(.changed)
    }

    /// Create on `/o`: the instance ID comes from the payload (an object-instance TLV, SenML
    /// names) or is the lowest free one; the answer's Location-Path is `o/i`.
    private func create(_ message: CoAPMessage, _ path: LwM2MPath, _ registry: ObjectRegistry)
        throws(LwM2MError) -> CoAPResponse
    {
        let object = try registry.target(path)
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
        guard !existing.contains(id) else { throw .badRequest("instance /\(path.objectID!)/\(id) already exists") }
        try object.createInstance(id, with: records)
        return CoAPResponse(.created, options: [
            CoAPOption(.locationPath, string: String(path.objectID!)),
            CoAPOption(.locationPath, string: String(id)),
        ])
    }

    private func delete(_ path: LwM2MPath, _ registry: ObjectRegistry) throws(LwM2MError) -> CoAPResponse {
        guard path.isObjectInstance else { throw .methodNotAllowed }
        try registry.target(path).deleteInstance(path.instanceID!)
        return CoAPResponse(.deleted)
    }

    /// The lowest ID in 0...65534 not in `ids` (sorted ascending).
    static func lowestFreeID(_ ids: [UInt16]) -> UInt16? {
        var candidate: UInt16 = 0
        for id in ids {
            if id > candidate { break }
            if id == candidate {
                guard candidate < 65534 else { return nil }
                candidate += 1
            }
        }
        return candidate
    }
}
