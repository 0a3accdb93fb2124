import Credentials

/// An object whose instances the Bootstrap interface provisions: Security (0), Server (1) and
/// Access Control (2). Values live in memory as a snapshot-able `ObjectSnapshot`; resources
/// named secret (the Security object's Secret Key, /0/x/5) never do: the object keeps only the
/// name the secret is stored under in the `CredentialStore`.
///
/// - Management servers reach it through `ObjectRegistry` with the definition's operations
///   (the Security object's resources have none, so nothing of it is readable there).
/// - A secret resource is never returned by `read`: reading it is 4.01 for everyone, and it is
///   left out of `resourceIDs` so no whole-instance read can serialize it.
/// - The object never touches the store (sans-IO): a write carrying a secret is prepared
///   (`prepareBootstrapWrite`: checked, the secret given a fresh name), the client has the outer
///   layer store it (`ClientAction.storeSecret`), and only then is it committed (`commit`).
/// - Every write names its secret afresh, so a bootstrap session that fails can restore its
///   snapshot while the old secrets are still in the store; the client removes the names no
///   snapshot refers to any more (`credentialReferences`).
public final class ProvisionedObject: ConfigurationObject {
    /// Runs an Execute of a server on resource `resource` of `instance`.
    public typealias ExecuteHandler = (_ instance: UInt16, _ resource: UInt16, _ arguments: [UInt8])
        throws(LwM2MError) -> Void
    /// Checks a value a management server writes (beyond type and the definition's integer
    /// range); throws `.badRequest` with the reason to refuse it.
    public typealias ValueCheck = (_ path: LwM2MPath, _ content: ResourceContent) throws(LwM2MError) -> Void

    public let definition: ObjectDefinition
    public var changeHandler: ((LwM2MPath) -> Void)?
    /// The resources whose values are secrets.
    public let secretResources: Set<UInt16>

    private var state = ObjectSnapshot()
    private let executeHandler: ExecuteHandler?
    private let valueCheck: ValueCheck?
    private var secretGeneration: UInt32 = 0

    /// An object of `definition` with no instances. `valueCheck` vets what management servers
    /// write.
    public init(definition: ObjectDefinition, secretResources: Set<UInt16> = [],
                valueCheck: ValueCheck? = nil, onExecute: ExecuteHandler? = nil) {
        self.definition = definition
        self.secretResources = secretResources
        self.valueCheck = valueCheck
        self.executeHandler = onExecute
    }

    // MARK: - LwM2MObject

    public var instanceIDs: [UInt16] { state.instances.keys.sorted() }

    public func resourceIDs(in instance: UInt16) -> [UInt16] {
        guard let resources = state.instances[instance] else { return [] }
        var ids = Array(resources.keys)
        if executeHandler != nil {
            for resource in definition.resources
            where resource.operations.contains(.execute) && resources[resource.id] == nil {
                ids.append(resource.id)
            }
        }
        return ids.sorted()
    }

    public func read(_ path: LwM2MPath) throws(LwM2MError) -> ResourceContent {
        guard let instance = path.instanceID, let resource = path.resourceID else { throw .notFound }
        guard !secretResources.contains(resource) else { throw .unauthorized }
        guard let content = state.instances[instance]?[resource] else { throw .notFound }
        return content
    }

    public func write(_ path: LwM2MPath, _ content: ResourceContent) throws(LwM2MError) {
        guard let instance = path.instanceID, let resourceID = path.resourceID,
              state.instances[instance] != nil, let resource = definition.resource(resourceID) else {
            throw .notFound
        }
        guard resource.operations.contains(.write) else { throw .methodNotAllowed }
        try content.validate(against: resource)
        try Self.checkIntegerRange(content, of: resource, at: path)
        try valueCheck?(path, content)
        state.instances[instance]![resourceID] = content
        changeHandler?(path)
    }

    public func execute(_ path: LwM2MPath, arguments: [UInt8]) throws(LwM2MError) {
        guard let instance = path.instanceID, let resourceID = path.resourceID,
              state.instances[instance] != nil, let resource = definition.resource(resourceID) else {
            throw .notFound
        }
        guard resource.operations.contains(.execute) else { throw .methodNotAllowed }
        guard let executeHandler else { throw .notFound }
        try executeHandler(instance, resourceID, arguments)
    }

    public func createInstance(_ id: UInt16, with records: [LwM2MRecord]) throws(LwM2MError) {
        guard definition.isMultiple else { throw .methodNotAllowed }
        guard id != 65535 else { throw .badRequest("instance ID 65535 is reserved") }
        guard state.instances[id] == nil else { throw .badRequest("instance /\(definition.id)/\(id) already exists") }
        try bootstrapWrite(instance: id, records: records)
    }

    public func deleteInstance(_ id: UInt16) throws(LwM2MError) {
        guard definition.isMultiple else { throw .methodNotAllowed }
        guard state.instances[id] != nil else { throw .notFound }
        bootstrapDelete(instance: id)
    }

    /// An integer value outside the definition's `a..b` range (ACL 0..31, Access Control
    /// Owner 0..65535, …) is `.badRequest`.
    static func checkIntegerRange(_ content: ResourceContent, of resource: ResourceDefinition,
                                  at path: LwM2MPath) throws(LwM2MError) {
        guard resource.type == .integer || resource.type == .unsignedInteger,
              let bounds = integerBounds(resource.range) else { return }
        let values: [ResourceValue] = switch content {
        case .single(let value): [value]
        case .multiple(let instances): Array(instances.values)
        }
        for value in values where !(value.integerValue.map(bounds.contains) ?? false) {
            throw .badRequest("\(path): \(value) out of range \(resource.range)")
        }
    }

    /// `lo..hi` of a RangeEnumeration text such as "0..31"; nil for anything else.
    static func integerBounds(_ range: String) -> ClosedRange<Int64>? {
        let parts = range.split(separator: ".", omittingEmptySubsequences: true)
        guard parts.count == 2, range.utf8.count == parts[0].utf8.count + parts[1].utf8.count + 2, let low = Int64(parts[0]), let high = Int64(parts[1]),
              low <= high else { return nil }
        return low...high
    }

    // MARK: - ConfigurationObject

    /// Writes an instance at once; a non-empty secret cannot be written this way (it must be
    /// stored first: `prepareBootstrapWrite`, `ClientAction.storeSecret`, `commit`), so such a
    /// write is `.internalError` and changes nothing.
    public func bootstrapWrite(instance: UInt16, records: [LwM2MRecord]) throws(LwM2MError) {
        let write = try prepareBootstrapWrite(instance: instance, records: records)
        guard write.secrets.isEmpty else { throw .internalError("a secret must be stored before it is written") }
        commit(write)
    }

    public func bootstrapDelete(instance: UInt16) {
        guard state.instances.removeValue(forKey: instance) != nil else { return }
        state.secrets[instance] = nil
        changeHandler?(LwM2MPath(definition.id, instance))
    }

    public func snapshot() -> ObjectSnapshot { state }

    public func restore(_ snapshot: ObjectSnapshot) {
        state = snapshot
        for references in snapshot.secrets.values {
            for reference in references.values {
                if let generation = Self.generation(of: reference) { secretGeneration = max(secretGeneration, generation) }
            }
        }
        changeHandler?(LwM2MPath(definition.id))
    }

    // MARK: - Agent side

    /// Sets a resource whatever its operations, creating the instance if needed (the agent's
    /// own configuration, e.g. from the factory snapshot).
    public func set(_ path: LwM2MPath, _ content: ResourceContent) throws(LwM2MError) {
        guard path.isResource, let instance = path.instanceID else { throw .notFound }
        try bootstrapWrite(instance: instance, records: content.records(at: path))
    }

    /// Where the secret of `resource` in `instance` is stored, if it has one.
    public func secretReference(instance: UInt16, resource: UInt16) -> CredentialReference? {
        state.secrets[instance]?[resource]
    }

    /// Every credential name `snapshot` refers to.
    public static func credentialReferences(in snapshot: ObjectSnapshot) -> Set<CredentialReference> {
        Set(snapshot.secrets.values.flatMap(\.values))
    }

    // MARK: - Secrets

    /// A Bootstrap-Write of one instance, checked, with its secrets named and waiting to be
    /// stored; nothing of it is in the object until `commit`.
    struct PreparedWrite {
        let instance: UInt16
        /// The resources that are not secrets.
        let contents: [UInt16: ResourceContent]
        /// The secret resources written: the name of the new secret, or nil for an empty value
        /// (bootstrap servers write one in NoSec mode: no secret).
        let references: [UInt16: CredentialReference?]
        /// What must be in the store before `commit`: each new secret under its name.
        let secrets: [(id: CredentialID, secret: SecretBytes)]

        /// Wipes the secret bytes this write still holds.
        func wipeSecrets() {
            for secret in secrets { secret.secret.wipe() }
        }
    }

    /// Checks a Bootstrap-Write of `records` into `instance` and names its secrets, without
    /// changing the object (the name's generation counter moves on even if the write is never
    /// committed: names are never reused).
    func prepareBootstrapWrite(instance: UInt16, records: [LwM2MRecord]) throws(LwM2MError) -> PreparedWrite {
        guard instance != 65535 || definition.id == 2 else { throw .badRequest("instance ID 65535 is reserved") }
        var contents = try ResourceContent.bootstrapGrouping(records, definition: definition, instance: instance)
        var references: [UInt16: CredentialReference?] = [:]
        var secrets: [(id: CredentialID, secret: SecretBytes)] = []
        for resource in secretResources.sorted() {
            guard let content = contents.removeValue(forKey: resource) else { continue }
            guard case .single(.opaque(var bytes)) = content else {
                for secret in secrets { secret.secret.wipe() }
                throw .badRequest("/\(definition.id)/\(instance)/\(resource) must be opaque")
            }
            defer { zeroize(&bytes) }
            guard !bytes.isEmpty else {
                references[resource] = .some(nil)
                continue
            }
            secretGeneration &+= 1
            let name = "\(LwM2MClient.secretNamePrefix)\(definition.id)-\(instance)-\(resource)/\(secretGeneration)"
            guard let id = CredentialID(name) else {
                for secret in secrets { secret.secret.wipe() }
                throw .internalError("bad credential name")
            }
            references[resource] = name
            secrets.append((id, SecretBytes(bytes)))
        }
        return PreparedWrite(instance: instance, contents: contents, references: references, secrets: secrets)
    }

    /// Applies a prepared write (its secrets stored) and reports the change.
    func commit(_ write: PreparedWrite) {
        let instance = write.instance
        state.instances[instance, default: [:]].merge(write.contents) { _, new in new }
        for (resource, reference) in write.references {
            state.secrets[instance, default: [:]][resource] = reference
        }
        if state.secrets[instance]?.isEmpty == true { state.secrets[instance] = nil }
        changeHandler?(LwM2MPath(definition.id, instance))
    }

    /// Whether `records` write any of the secret resources.
    func writesSecrets(_ records: [LwM2MRecord]) -> Bool {
        !secretResources.isEmpty && records.contains { $0.path.resourceID.map(secretResources.contains) ?? false }
    }

    private static func generation(of reference: CredentialReference) -> UInt32? {
        guard reference.hasPrefix(LwM2MClient.secretNamePrefix), let slash = reference.lastIndex(of: "/") else { return nil }
        return UInt32(reference[reference.index(after: slash)...])
    }
}
