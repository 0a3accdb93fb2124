/// Why a state file cannot be loaded.
public enum StateFileError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Not the JSON document this agent writes.
    case malformed(String)
    /// Written by a newer agent.
    case unsupportedVersion(Int64)

    public var description: String {
        switch self {
        case .malformed(let why): "malformed state file: \(why)"
        case .unsupportedVersion(let version): "state file version \(version) is newer than this agent understands"
        }
    }
}

/// The state-file form of a `ConfigurationSnapshot`: a JSON document holding, per object, its
/// instance IDs, its values as SenML JSON records and, for secret resources, only the names
/// under which the `CredentialStore` keeps them:
///
/// ```json
/// {"format":"lwm2m-agent-configuration","version":1,"objects":{
///   "0":{"instances":[0,1],"records":[{"n":"/0/0/0","vs":"coap://…"},…],"secrets":{"1/5":"lwm2m/0-1-5/2"}},
///   "1":{…},"2":{…}}}
/// ```
extension ConfigurationSnapshot {
    static let formatName = "lwm2m-agent-configuration"
    static let formatVersion: Int64 = 1

    /// The JSON document.
    public func encoded() -> [UInt8] {
        var members: [(String, JSONValue)] = []
        for objectID in objects.keys.sorted() {
            let snapshot = objects[objectID]!
            var recordsJSON = JSONValue.array([])
            let records = snapshot.records(objectID: objectID)
            if !records.isEmpty, let bytes = try? SenMLJSON.encodeComposite(records),
               let parsed = try? JSONParser.parse(bytes) {
                recordsJSON = parsed
            }
            var secrets: [(String, JSONValue)] = []
            for instance in snapshot.secrets.keys.sorted() {
                let references = snapshot.secrets[instance]!
                for resource in references.keys.sorted() {
                    secrets.append(("\(instance)/\(resource)", .string(references[resource]!)))
                }
            }
            members.append((String(objectID), .object([
                ("instances", .array(snapshot.instances.keys.sorted().map { .number(JSONNumber(Int($0))) })),
                ("records", recordsJSON),
                ("secrets", .object(secrets)),
            ])))
        }
        return JSONWriter.bytes(.object([
            ("format", .string(Self.formatName)),
            ("version", .number(JSONNumber(Self.formatVersion))),
            ("objects", .object(members)),
        ]))
    }

    /// Decodes a state document, typing values with `schema` (the OMA definitions by default).
    public init(decoding bytes: [UInt8], schema: ResourceSchema = .oma) throws(StateFileError) {
        let document: JSONValue
        do throws(ContentFormatError) {
            document = try JSONParser.parse(bytes)
        } catch {
            throw .malformed("\(error)")
        }
        guard document["format"]?.stringValue == Self.formatName else { throw .malformed("not an agent state file") }
        guard let version = document["version"]?.numberValue?.int64Value else { throw .malformed("no version") }
        guard version <= Self.formatVersion else { throw .unsupportedVersion(version) }
        guard let members = document["objects"]?.objectValue else { throw .malformed("no objects") }
        var objects: [UInt16: ObjectSnapshot] = [:]
        for (key, value) in members {
            guard let objectID = UInt16(key), schema.object(objectID) != nil else {
                throw .malformed("unknown object \"\(key)\"")
            }
            objects[objectID] = try Self.decodeObject(objectID, value, schema: schema)
        }
        self.init(objects: objects)
    }

    private static func decodeObject(_ objectID: UInt16, _ value: JSONValue, schema: ResourceSchema)
        throws(StateFileError) -> ObjectSnapshot
    {
        var snapshot = ObjectSnapshot()
        for id in value["instances"]?.arrayValue ?? [] {
            guard let instance = id.numberValue?.uint64Value.flatMap(UInt16.init(exactly:)) else {
                throw .malformed("bad instance ID in object \(objectID)")
            }
            snapshot.instances[instance] = [:]
        }
        if let records = value["records"], records.arrayValue?.isEmpty == false {
            let decoded: [LwM2MRecord]
            do throws(ContentFormatError) {
                decoded = try SenMLJSON.decode(JSONWriter.bytes(records), basePath: .root) { schema.type(of: $0) }
            } catch {
                throw .malformed("object \(objectID): \(error)")
            }
            guard let definition = schema.object(objectID) else { throw .malformed("unknown object \(objectID)") }
            var byInstance: [UInt16: [LwM2MRecord]] = [:]
            for record in decoded {
                guard record.path.objectID == objectID, let instance = record.path.instanceID else {
                    throw .malformed("record \(record.path) outside object \(objectID)")
                }
                byInstance[instance, default: []].append(record)
            }
            for (instance, records) in byInstance {
                do throws(LwM2MError) {
                    snapshot.instances[instance] = try ResourceContent.grouping(records, definition: definition)
                } catch {
                    throw .malformed("object \(objectID) instance \(instance): \(error)")
                }
            }
        }
        for (key, reference) in value["secrets"]?.objectValue ?? [] {
            let parts = key.split(separator: "/")
            guard parts.count == 2, let instance = UInt16(parts[0]), let resource = UInt16(parts[1]),
                  let name = reference.stringValue else { throw .malformed("bad secret entry \"\(key)\"") }
            snapshot.secrets[instance, default: [:]][resource] = name
            if snapshot.instances[instance] == nil { snapshot.instances[instance] = [:] }
        }
        return snapshot
    }
}
