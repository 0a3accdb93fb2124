import CoAP

/// Answers the Bootstrap interface's server-initiated operations (TS 1.1 §6.1.7) during a
/// bootstrap session: Bootstrap-Write, -Delete, -Discover, -Read and -Finish. Sans-IO: one
/// request in, one outcome out; the client runs the consistency check on Finish.
///
/// - Write (PUT `/o`, `/o/i`, `/o/i/r`) answers 2.04 (never 2.01, protocol pitfall 6); a write on
///   `/o` takes the instance IDs from the payload. A write carrying a secret (/0/x/5) is handed
///   to the client (`.writeSecrets`), which has the secret stored before it writes and answers. Configuration objects (0, 1, 2) accept any
///   resource; other objects take the write as a management-server write or create would.
///   A write may turn the bootstrap-server account's instance into a management account (1NCE
///   writes its LwM2M server at /0/0 and the bootstrap account at /0/1, without a Delete): the
///   client then checks at Finish that the session left a bootstrap-server account.
/// - Delete (DELETE `/`, `/o`, `/o/i`) answers 2.02 and never removes the bootstrap-server
///   account or /3/0 (pitfall 1); naming either directly is 4.00.
/// - Discover (GET with Accept 40 on `/` or `/o`) lists instances with `ssid` and `uri`.
/// - Read (GET `/1…` or `/2…`) answers like a management-server Read; other objects are 4.00
///   (the Security object 4.01: nobody reads it).
public struct BootstrapResponder {
    /// What to do with a request of the bootstrap server.
    public enum Outcome: Hashable, Sendable {
        /// Send this response.
        case respond(CoAPResponse)
        /// Bootstrap-Finish: check consistency, then answer 2.04 or 4.06.
        case finish
        /// A Bootstrap-Write that carries secrets: the client has them stored (storage
        /// actions) and writes the instances in order, then answers (2.04, or the first error).
        case writeSecrets(SecretWrite)
    }

    /// A Bootstrap-Write of a configuration object whose records include secret resources,
    /// split by instance in the order they are written.
    public struct SecretWrite: Hashable, Sendable {
        public let objectID: UInt16
        public let instances: [Instance]

        /// The records of one instance.
        public struct Instance: Hashable, Sendable {
            public let id: UInt16
            public let records: [LwM2MRecord]
        }
    }

    /// The Security object (0).
    public let security: ProvisionedObject
    /// The objects the bootstrap server configures by ID (0, 1, 2).
    public let configurationObjects: [UInt16: any ConfigurationObject]

    public init(security: ProvisionedObject, configurationObjects: [UInt16: any ConfigurationObject]) {
        self.security = security
        self.configurationObjects = configurationObjects
    }

    /// The outcome of `message`, a request of the bootstrap server, applied to `registry`.
    public func handle(_ message: CoAPMessage, registry: ObjectRegistry) -> Outcome {
        if message.code == .post, message.uriPath == ["bs"] { return .finish }
        guard let path = LwM2MPath(segments: message.uriPath) else {
            return .respond(.error(.badRequest, "\"\(message.path)\" is not an LwM2M path"))
        }
        do throws(LwM2MError) {
            switch message.code {
            case .put where message.uriQuery.isEmpty: return try write(message, path, registry)
            case .delete: return .respond(try delete(path, registry))
            case .get where message.accept == ContentFormat.linkFormat: return .respond(try discover(path, registry))
            case .get: return .respond(try read(message, path, registry))
            default: throw .methodNotAllowed
            }
        } catch {
            return .respond(error.response)
        }
    }

    // MARK: - Bootstrap-Write

    private func write(_ message: CoAPMessage, _ path: LwM2MPath, _ registry: ObjectRegistry)
        throws(LwM2MError) -> Outcome
    {
        guard let objectID = path.objectID, path.depth <= 3 else { throw .methodNotAllowed }
        guard let object = registry.object(objectID) else { throw .notFound }
        guard let format = message.contentFormat, RequestHandler.writableFormats.contains(format) else {
            throw .unsupportedContentFormat
        }
        let records: [LwM2MRecord]
        do throws(ContentFormatError) {
            records = try PayloadCodec.decode(message.payload, base: path, format: format, schema: registry.schema)
        } catch {
            throw LwM2MError(error)
        }
        var byInstance: [UInt16: [LwM2MRecord]] = [:]
        for record in records {
            guard path.contains(record.path), let instance = record.path.instanceID, record.path.depth >= 3 else {
                throw .badRequest("\(record.path) lies outside \(path)")
            }
            byInstance[instance, default: []].append(record)
        }
        if byInstance.isEmpty, let instance = path.instanceID { byInstance[instance] = [] }
        if let configuration = configurationObjects[objectID] {
            if let provisioned = configuration as? ProvisionedObject, provisioned.writesSecrets(records) {
                return .writeSecrets(SecretWrite(objectID: objectID, instances: byInstance.keys.sorted().map {
                    SecretWrite.Instance(id: $0, records: byInstance[$0]!)
                }))
            }
            for instance in byInstance.keys.sorted() {
                try configuration.bootstrapWrite(instance: instance, records: byInstance[instance]!)
            }
        } else {
            for instance in byInstance.keys.sorted() {
                if object.instanceIDs.contains(instance) {
                    let contents = try ResourceContent.bootstrapGrouping(byInstance[instance]!, definition: object.definition,
                                                                         instance: instance)
                    for id in contents.keys.sorted() {
                        try object.write(LwM2MPath(objectID, instance, id), contents[id]!)
                    }
                } else {
                    try object.createInstance(instance, with: byInstance[instance]!)
                }
            }
        }
        return .respond(CoAPResponse(.changed))
    }

    // MARK: - Bootstrap-Delete

    private func delete(_ path: LwM2MPath, _ registry: ObjectRegistry) throws(LwM2MError) -> CoAPResponse {
        switch path.kind {
        case .root:
            for id in configurationObjects.keys.sorted() { deleteAll(of: id) }
        case .object(let objectID):
            guard configurationObjects[objectID] != nil || registry.object(objectID) != nil else { throw .notFound }
            if configurationObjects[objectID] != nil {
                deleteAll(of: objectID)
            } else if objectID != 3, let object = registry.object(objectID) {
                for instance in object.instanceIDs { try? object.deleteInstance(instance) }
            }
        case .instance(let instancePath):
            let objectID = instancePath.objectID, instance = instancePath.instanceID
            if objectID == 0, instance == bootstrapInstance {
                throw .badRequest("the bootstrap-server account cannot be deleted")
            }
            if objectID == 3, instance == 0 { throw .badRequest("/3/0 cannot be deleted") }
            if let configuration = configurationObjects[objectID] {
                configuration.bootstrapDelete(instance: instance)
            } else {
                guard let object = registry.object(objectID) else { throw .notFound }
                do throws(LwM2MError) {
                    try object.deleteInstance(instance)
                } catch .notFound {
                    // Deleting what is not there leaves the wanted state.
                } catch {
                    throw .badRequest("/\(objectID)/\(instance) cannot be deleted")
                }
            }
        case .resource, .resourceInstance:
            throw .badRequest("Bootstrap-Delete targets \"/\", an object or an instance")
        }
        return CoAPResponse(.deleted)
    }

    /// Deletes every instance of configuration object `objectID`, except the bootstrap account.
    private func deleteAll(of objectID: UInt16) {
        guard let object = configurationObjects[objectID] else { return }
        let keep = objectID == 0 ? bootstrapInstance : nil
        for instance in object.instanceIDs where instance != keep { object.bootstrapDelete(instance: instance) }
    }

    /// The Security instance of the bootstrap-server account (found by /0/x/1, pitfall 7).
    private var bootstrapInstance: UInt16? {
        security.instanceIDs.first { SecurityAccount(instance: $0, object: security).isBootstrap }
    }

    // MARK: - Bootstrap-Discover and Bootstrap-Read

    private func discover(_ path: LwM2MPath, _ registry: ObjectRegistry) throws(LwM2MError) -> CoAPResponse {
        guard path.depth <= 1 else { throw .badRequest("Bootstrap-Discover targets \"/\" or an object") }
        if let objectID = path.objectID, registry.object(objectID) == nil { throw .notFound }
        var entries = [LinkEntry(target: "/", attributes: [LinkAttribute("lwm2m", "1.1")])]
        let objectIDs = path.objectID.map { [$0] } ?? registry.objectIDs
        for objectID in objectIDs {
            guard let object = registry.object(objectID) else { continue }
            let instances = object.instanceIDs
            if instances.isEmpty {
                entries.append(LinkEntry(path: LwM2MPath(objectID), attributes: versionAttributes(object.definition)))
            }
            for instance in instances {
                entries.append(LinkEntry(path: LwM2MPath(objectID, instance),
                                         attributes: accountAttributes(objectID, instance, registry)))
            }
        }
        do throws(ContentFormatError) {
            return CoAPResponse(.content, contentFormat: ContentFormat.linkFormat, payload: try LinkFormat.encode(entries))
        } catch {
            throw .internalError("cannot encode the Bootstrap-Discover answer: \(error)")
        }
    }

    private func versionAttributes(_ definition: ObjectDefinition) -> [LinkAttribute] {
        definition.version == "1.0" || definition.version.isEmpty ? [] : [LinkAttribute("ver", definition.version)]
    }

    /// `ssid` and `uri` of a Security instance, `ssid` of a Server instance (TS 1.1 §5.2.7.3).
    private func accountAttributes(_ objectID: UInt16, _ instance: UInt16, _ registry: ObjectRegistry) -> [LinkAttribute] {
        switch objectID {
        case 0:
            let account = SecurityAccount(instance: instance, object: security)
            guard !account.isBootstrap else { return [] }
            var attributes: [LinkAttribute] = []
            if let ssid = account.shortServerID { attributes.append(LinkAttribute("ssid", String(ssid))) }
            // The link-format encoder quotes the value (quoting it here too gave `uri="\"…\""`).
            if !account.uri.isEmpty { attributes.append(LinkAttribute("uri", account.uri)) }
            return attributes
        case 1:
            guard let object = configurationObjects[1],
                  let settings = ServerSettings(instance: instance, snapshot: object.snapshot()) else { return [] }
            return [LinkAttribute("ssid", String(settings.shortServerID))]
        default:
            return []
        }
    }

    private func read(_ message: CoAPMessage, _ path: LwM2MPath, _ registry: ObjectRegistry)
        throws(LwM2MError) -> CoAPResponse
    {
        guard let objectID = path.objectID else { throw .badRequest("Bootstrap-Read targets /1 or /2") }
        if objectID == 0 || objectID == 21 { throw .unauthorized }
        guard objectID == 1 || objectID == 2 else { throw .badRequest("Bootstrap-Read targets /1 or /2") }
        var plain = message
        plain.options.removeAll { $0.number == .observe }
        return RequestHandler().handle(plain, registry: registry)
    }
}
