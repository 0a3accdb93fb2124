import CoAP

// TODO: what remains of the Device Management & Information Reporting interfaces (see
// docs/lwm2m-responder.md for what is done; the Bootstrap interface is `BootstrapResponder` in
// Client/, and the Security (0) and OSCORE (21) objects answer 4.01 to every management-server
// request here):
// - ACL housekeeping beyond Create/Delete: orphaned instances (no owner left) are not
//   removed, and the Discover right follows Read (some clients always allow Discover).
// - Observe-Composite takes the smallest pmin / pmax over its paths and ignores gt / lt / st,
//   epmin and epmax (TS 1.1 leaves composite attributes open).
// - Read-Composite answers with the paths that exist (4.04 only when none does); a per-path
//   error cannot be reported in SenML.
// - Attributes attached to one resource instance do not apply to an observation of the whole
//   multi-instance resource (the resource's own gt / lt / st apply to each instance).
// - Write-Replace of an instance whose object cannot remove resources (`removeResource` not
//   implemented) fails with 4.05 when a present optional writable resource is left out.
// - LwM2M 1.2 additions (Discover depth, Write-Attributes edge cases, gateway / ACL bits 1.2).

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
/// | FETCH on `/` (SenML paths)   | Read-Composite / Observe-Composite| 2.05    |
/// | iPATCH on `/` (SenML values) | Write-Composite                   | 2.04    |
/// | PUT on resource, streamed    | Write block by block (`handleBlock`, `StreamingWritable`) | 2.31 / 2.04 |
///
/// Errors: a Uri-Path that is not an LwM2M path (non-numeric or zero-padded segment, an ID
/// over 65534, more than four segments) is 4.00 Bad Request — the request is malformed for
/// this interface rather than naming a missing object. Missing targets are 4.04; operations
/// the target or its definition does not allow, and methods no operation maps to, are 4.05;
/// a missing or unreadable Content-Format is 4.15; a payload that does not decode or does not
/// fit the definition is 4.00 (and nothing is written); a Read no accepted format can carry
/// is 4.06; an operation the server has no access right for (Access Control, several servers)
/// and any request on the Security or OSCORE object is 4.01; an object failing is 5.00.
public struct RequestHandler: Sendable {
    /// Content formats a Write or Create payload may use.
    public static let writableFormats: [UInt16] = PayloadCodec.hierarchicalFormats + PayloadCodec.singleValueFormats

    /// Objects a management server may never read, write, discover or observe.
    public static let bootstrapOnlyObjects: Set<UInt16> = [0, 21]

    /// A handler (stateless: the state lives in the registry).
    public init() {}

    /// Single-server convenience: the response to `message` (a request from the only LwM2M
    /// server), after applying it to `registry`. No access control (no server identity).
    /// Without an attribute store, Write-Attributes is 5.01 and Discover lists no notification
    /// attributes. Never traps on bad input: every failure is an error response.
    public func handle(_ message: CoAPMessage, registry: ObjectRegistry) -> CoAPResponse {
        var none: AttributeStore? = nil
        return respond(message, registry, nil, &none)
    }

    /// Single-server convenience: as `handle(_:registry:server:attributes:)` without a server
    /// identity, hence without access control.
    public func handle(_ message: CoAPMessage, registry: ObjectRegistry, attributes: inout AttributeStore)
        -> CoAPResponse
    {
        handleKeeping(message, registry, nil, &attributes)
    }

    /// The response to `message` from `server`, after applying it to `registry` and to
    /// `attributes` — that server's own store (the caller keeps one `AttributeStore` per
    /// server): Write-Attributes stores into it, Discover lists the attributes attached at each
    /// path, a Delete forgets the attributes under the instance. When the registry holds more
    /// than one Server object instance, the Access Control object (2) decides what `server` may
    /// do (`AccessControl`; 4.01 otherwise), and a Create makes `server` the owner of the new
    /// instance's ACL instance. When the server has a Server object instance, its Default
    /// Minimum / Maximum Period (/1/x/2, /1/x/3) are reloaded into `attributes.defaults` after
    /// a request that may change an object (not after a GET or FETCH, which only read), so a
    /// Write to them takes effect for the next notification. (A change made otherwise — by
    /// another server, a bootstrap — is the caller's to reload: `LwM2MClient` reloads every
    /// session's defaults when the registry reports a change under /1.)
    public func handle(_ message: CoAPMessage, registry: ObjectRegistry, server: ServerContext,
                       attributes: inout AttributeStore) -> CoAPResponse
    {
        let response = handleKeeping(message, registry, server, &attributes)
        if message.code != .get, message.code != .fetch, let instance = server.serverInstance(in: registry) {
            attributes.loadServerDefaults(from: registry, instance: instance)
        }
        return response
    }

    private func handleKeeping(_ message: CoAPMessage, _ registry: ObjectRegistry, _ server: ServerContext?,
                               _ attributes: inout AttributeStore) -> CoAPResponse {
        var store: AttributeStore? = attributes
        attributes = AttributeStore()  // keep the store uniquely referenced while it is edited
        defer { attributes = store! }
        return respond(message, registry, server, &store)
    }

    private func respond(_ message: CoAPMessage, _ registry: ObjectRegistry, _ server: ServerContext?,
                         _ attributes: inout AttributeStore?) -> CoAPResponse
    {
        guard let path = LwM2MPath(uriPathOf: message) else {
            return .error(.badRequest, "bad request: \"\(message.path)\" is not an LwM2M path")
        }
        // The Security (0) and OSCORE (21) objects hold credentials: only the Bootstrap
        // interface may touch them (the object definitions give their resources no R/W/E
        // operations), never a management server; secrets are never serialized here.
        if let objectID = path.objectID, Self.bootstrapOnlyObjects.contains(objectID) {
            return LwM2MError.unauthorized.response
        }
        let access = AccessControl(server: server, registry: registry)
        do throws(LwM2MError) {
            switch message.code {
            case .get:
                try authorize(.read, path, registry, access)
                if message.accept == ContentFormat.linkFormat { return try discover(path, registry, attributes, access) }
                return try read(path, accept: message.accept, registry, access)
            case .put:
                if !message.uriQuery.isEmpty {
                    guard attributes != nil else { throw .notImplemented("Write-Attributes") }
                    try authorize(.read, path, registry, access)
                    return try writeAttributes(message, path, registry, &attributes!)
                }
                try authorize(.write, path, registry, access)
                return try write(message, path, registry, partial: false)
            case .post:
                switch path.depth {
                case 1:
                    try authorize(.create, path, registry, access)
                    return try create(message, path, registry, owner: access?.server)
                case 2:
                    try authorize(.write, path, registry, access)
                    return try write(message, path, registry, partial: true)
                case 3:
                    try authorize(.execute, path, registry, access)
                    return try execute(message, path, registry)
                default: throw .methodNotAllowed
                }
            case .delete:
                try authorize(.delete, path, registry, access)
                let response = try delete(path, registry)
                attributes?.removeAll(under: path)
                return response
            case .fetch:
                return try readComposite(message, path, registry, access)
            case .iPatch:
                return try writeComposite(message, path, registry, access)
            default:
                throw .methodNotAllowed
            }
        } catch {
            return error.response
        }
    }

    /// Access control of one operation (no-op without `access`): the target must exist (4.04
    /// first, so a missing target is not reported as a rights problem), then the server needs
    /// `needed` on the object instance — on the object-level ACL instance for Create. Reads,
    /// Discover and Write-Attributes of a whole object are filtered per instance instead.
    func authorize(_ needed: AccessRights, _ path: LwM2MPath, _ registry: ObjectRegistry,
                   _ access: AccessControl?) throws(LwM2MError) {
        guard let access, !path.isRoot else { return }
        _ = try registry.target(path)
        if path.depth == 1 && needed != .create { return }
        if path.objectID == AccessControl.objectID, needed == .create || needed == .delete { throw .unauthorized }
        try access.require(needed, at: path)
    }

    // MARK: - Read and Discover

    /// The readable records at `path`; an object read under access control keeps the instances
    /// the server may read.
    static func readableRecords(_ path: LwM2MPath, _ registry: ObjectRegistry, _ access: AccessControl?)
        throws(LwM2MError) -> [LwM2MRecord]
    {
        let records = try registry.records(at: path)
        guard let access, case .object(let objectID) = path.kind else { return records }
        return records.filter { record in
            record.path.instanceID.map { access.canRead(objectID: objectID, instanceID: $0) } ?? false
        }
    }

    private func read(_ path: LwM2MPath, accept: UInt16?, _ registry: ObjectRegistry, _ access: AccessControl?)
        throws(LwM2MError) -> CoAPResponse
    {
        let records = try Self.readableRecords(path, registry, access)
        let singleValue = path.depth == 4 || (path.depth == 3 && !registry.schema.isMultiple(path))
        guard let format = PayloadCodec.responseFormat(accept: accept, base: path, schema: registry.schema,
                                                       singleValue: singleValue) else { throw .notAcceptable }
        // Text, opaque and plain CBOR carry one value: not a multi-instance resource.
        if !singleValue, PayloadCodec.singleValueFormats.contains(format) {
            throw .notAcceptable
        }
        do throws(ContentFormatError) {
            let payload = try PayloadCodec.encode(records, base: path, format: format)
            return CoAPResponse(.content, contentFormat: format, payload: payload)
        } catch {
            throw .internalError("cannot encode \(path): \(error)")
        }
    }

    private func discover(_ path: LwM2MPath, _ registry: ObjectRegistry, _ attributes: AttributeStore?,
                          _ access: AccessControl?) throws(LwM2MError) -> CoAPResponse
    {
        var entries = try registry.linkEntries(at: path)
        if let access, case .object(let objectID) = path.kind {
            entries = entries.filter { entry in
                guard let instance = entry.path?.instanceID else { return true }
                return access.canRead(objectID: objectID, instanceID: instance)
            }
        }
        if let attributes { entries = Self.attaching(attributes, to: entries, target: path) }
        do throws(ContentFormatError) {
            return CoAPResponse(.content, contentFormat: ContentFormat.linkFormat, payload: try LinkFormat.encode(entries))
        } catch {
            throw .internalError("cannot encode the Discover answer: \(error)")
        }
    }

    // MARK: - Execute

    /// Execute: the arguments must follow the TS 1.1 §5.4.5 syntax (4.00 otherwise); the raw
    /// payload is handed to the object.
    private func execute(_ message: CoAPMessage, _ path: LwM2MPath, _ registry: ObjectRegistry)
        throws(LwM2MError) -> CoAPResponse
    {
        guard case .resource(let resourcePath) = path.kind else { throw .methodNotAllowed }
        let object = try registry.target(path)
        guard let resource = object.definition.resource(resourcePath.resourceID) else { throw .notFound }
        guard resource.operations.contains(.execute) else { throw .methodNotAllowed }
        _ = try ExecuteArgument.parse(message.payload)
        try object.execute(path, arguments: message.payload)
        return CoAPResponse(.changed)
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
