/// An LwM2M path: `/o`, `/o/i`, `/o/i/r` or `/o/i/r/ri` (or the root `/`), each ID 0...65534
/// (65535 is reserved, TS 1.1 §7.2).
///
/// The path stores its depth in its type (`kind`): code that needs an instance or a resource
/// matches on `kind` (or takes `instancePath` / `resourcePath`) once and then holds
/// non-optional IDs. The optional accessors (`objectID` … `resourceInstanceID`) are read-only
/// conveniences for code that only asks "is this ID there".
public struct LwM2MPath: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// What a path names, with exactly the IDs that depth has.
    public enum Kind: Hashable, Sendable {
        /// `/`
        case root
        /// `/o`
        case object(UInt16)
        /// `/o/i`
        case instance(InstancePath)
        /// `/o/i/r`
        case resource(ResourcePath)
        /// `/o/i/r/ri`: the resource and the resource instance ID.
        case resourceInstance(ResourcePath, UInt16)
    }

    /// The path's depth and IDs.
    public let kind: Kind

    /// The root path `/`.
    public static let root = LwM2MPath()

    /// The root path `/`.
    public init() { kind = .root }

    /// The path of `kind`.
    @inlinable
    public init(_ kind: Kind) { self.kind = kind }

    /// A path from its IDs; later IDs require the earlier ones (a resource without an instance
    /// is a programming error and traps, as it always did). Code that has the IDs of a known
    /// depth can say `LwM2MPath(.resource(ResourcePath(o, i, r)))` or `resource.path`.
    @inlinable
    public init(_ objectID: UInt16, _ instanceID: UInt16? = nil, _ resourceID: UInt16? = nil,
                _ resourceInstanceID: UInt16? = nil) {
        switch (instanceID, resourceID, resourceInstanceID) {
        case (nil, nil, nil):
            kind = .object(objectID)
        case (let instanceID?, nil, nil):
            kind = .instance(InstancePath(objectID, instanceID))
        case (let instanceID?, let resourceID?, nil):
            kind = .resource(ResourcePath(objectID, instanceID, resourceID))
        case (let instanceID?, let resourceID?, let resourceInstanceID?):
            kind = .resourceInstance(ResourcePath(objectID, instanceID, resourceID), resourceInstanceID)
        case (nil, _, _):
            preconditionFailure("a resource needs an instance")
        case (_?, nil, _?):
            preconditionFailure("a resource instance needs a resource")
        }
    }

    /// Parses "/3/0/1", "3/0", "/" … Fails on non-numeric, out-of-range, zero-padded or empty
    /// segments ("/3//0") and on more than four IDs.
    public init?(_ text: String) {
        var body = Substring(text)
        if body.hasPrefix("/") { body = body.dropFirst() }
        if body.count > 1, body.hasSuffix("/") { body = body.dropLast() }
        let segments = body.isEmpty ? [] : body.split(separator: "/", omittingEmptySubsequences: false)
        self.init(segments: segments.map(String.init))
    }

    /// From Uri-Path segments (["3", "0", "1"]); an empty list is the root.
    public init?(segments: [String]) {
        self.init(segmentBytes: segments.lazy.map(\.utf8))
    }

    /// From path segments as bytes (a request's Uri-Path option values, or the UTF-8 of text
    /// segments): at most four, each decimal digits without a leading zero, 0...65534; none is
    /// the root. The one parser behind `init?(segments:)` and `init?(uriPathOf:)`.
    init?<Segments: Sequence>(segmentBytes: Segments)
    where Segments.Element: Collection, Segments.Element.Element == UInt8 {
        var ids: (UInt16, UInt16, UInt16, UInt16) = (0, 0, 0, 0)
        var count = 0
        for segment in segmentBytes {
            guard count < 4, let id = Self.parseID(segment) else { return nil }
            switch count {
            case 0: ids.0 = id
            case 1: ids.1 = id
            case 2: ids.2 = id
            default: ids.3 = id
            }
            count += 1
        }
        switch count {
        case 0: kind = .root
        case 1: kind = .object(ids.0)
        case 2: kind = .instance(InstancePath(ids.0, ids.1))
        case 3: kind = .resource(ResourcePath(ids.0, ids.1, ids.2))
        default: kind = .resourceInstance(ResourcePath(ids.0, ids.1, ids.2), ids.3)
        }
    }

    /// One path segment's bytes: 1...5 ASCII digits, no leading zero (except "0"), at most 65534.
    private static func parseID<Bytes: Collection>(_ bytes: Bytes) -> UInt16? where Bytes.Element == UInt8 {
        guard let first = bytes.first, bytes.count <= 5, bytes.count == 1 || first != UInt8(ascii: "0") else { return nil }
        var value: UInt32 = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt32(byte - UInt8(ascii: "0"))
        }
        return value < 65535 ? UInt16(value) : nil
    }

    // MARK: - Typed views

    /// The object instance this path names or lies in (`/o/i` of `/o/i`, `/o/i/r`,
    /// `/o/i/r/ri`); nil for the root and an object.
    @inlinable
    public var instancePath: InstancePath? {
        switch kind {
        case .root, .object: nil
        case .instance(let instance): instance
        case .resource(let resource), .resourceInstance(let resource, _): resource.instance
        }
    }

    /// The resource this path names or lies in (`/o/i/r` of `/o/i/r` and `/o/i/r/ri`); nil
    /// above resource level.
    @inlinable
    public var resourcePath: ResourcePath? {
        switch kind {
        case .root, .object, .instance: nil
        case .resource(let resource), .resourceInstance(let resource, _): resource
        }
    }

    // MARK: - Optional accessors (conveniences)

    /// The object ID; nil for the root.
    @inlinable
    public var objectID: UInt16? {
        switch kind {
        case .root: nil
        case .object(let objectID): objectID
        case .instance(let instance): instance.objectID
        case .resource(let resource), .resourceInstance(let resource, _): resource.objectID
        }
    }

    /// The object instance ID; nil above instance level.
    @inlinable
    public var instanceID: UInt16? { instancePath?.instanceID }

    /// The resource ID; nil above resource level.
    @inlinable
    public var resourceID: UInt16? { resourcePath?.resourceID }

    /// The resource instance ID; nil above resource-instance level.
    @inlinable
    public var resourceInstanceID: UInt16? {
        if case .resourceInstance(_, let id) = kind { return id }
        return nil
    }

    /// Number of IDs: 0 (root) to 4 (resource instance).
    @inlinable
    public var depth: Int {
        switch kind {
        case .root: 0
        case .object: 1
        case .instance: 2
        case .resource: 3
        case .resourceInstance: 4
        }
    }

    public var isRoot: Bool { depth == 0 }
    public var isObject: Bool { depth == 1 }
    public var isObjectInstance: Bool { depth == 2 }
    public var isResource: Bool { depth == 3 }
    public var isResourceInstance: Bool { depth == 4 }

    /// The IDs in order.
    public var ids: [UInt16] {
        let packed = packed
        return (0..<depth).map { Self.id(in: packed, at: $0) }
    }

    /// The ID at `level` (0 object … 3 resource instance), `nil` below the path's depth.
    @inlinable
    public func id(at level: Int) -> UInt16? {
        guard level >= 0, level < depth else { return nil }
        return Self.id(in: packed, at: level)
    }

    /// The ID at `level` (0...3) of `packed` (a path's `packed` form); 0 at levels past the
    /// path's depth. For loops over `0..<depth` that must not allocate (`ids`) or unwrap.
    @inlinable
    static func id(in packed: UInt64, at level: Int) -> UInt16 {
        UInt16(truncatingIfNeeded: packed >> UInt64(truncatingIfNeeded: (48 - 16 * level) & 63))
    }

    /// The IDs packed left-aligned into 64 bits (object in the top 16), zeros below the depth:
    /// prefix tests and ordering compare one integer instead of four optionals.
    @inlinable
    var packed: UInt64 {
        switch kind {
        case .root: 0
        case .object(let objectID): UInt64(objectID) << 48
        case .instance(let instance): instance.packed
        case .resource(let resource): resource.packed
        case .resourceInstance(let resource, let id): resource.packed | UInt64(id)
        }
    }

    /// Whether one of the IDs is the reserved 65535 (which `init?(_:)` refuses but the
    /// initialisers from IDs accept). No allocation, unlike a look at `ids`.
    var hasReservedID: Bool {
        let packed = packed
        for level in 0..<depth where Self.id(in: packed, at: level) == 0xFFFF { return true }
        return false
    }

    // MARK: - Relations

    /// Same paths, same IDs at the same depth.
    @inlinable
    public static func == (lhs: LwM2MPath, rhs: LwM2MPath) -> Bool {
        lhs.packed == rhs.packed && lhs.depth == rhs.depth
    }

    /// Hashes the packed IDs and the depth: 9 bytes, where the enum's own hashing would feed the
    /// case tag as a full word plus each ID (paths key the attribute stores and change sets).
    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(packed)
        hasher.combine(UInt8(truncatingIfNeeded: depth))
    }

    /// Whether `other` equals this path or lies below it. (No allocation: this runs for every
    /// record of every read and notification.)
    @inlinable
    public func contains(_ other: LwM2MPath) -> Bool {
        let count = depth
        guard count <= other.depth else { return false }
        guard count > 0 else { return true }
        let shift = UInt64(64 - 16 * count)
        return packed >> shift == other.packed >> shift
    }

    /// This path extended by one ID. Extending a resource instance path is a programming
    /// error (it traps, as it always did).
    public func appending(_ id: UInt16) -> LwM2MPath {
        switch kind {
        case .root: LwM2MPath(.object(id))
        case .object(let objectID): LwM2MPath(.instance(InstancePath(objectID, id)))
        case .instance(let instance): instance.appending(id).path
        case .resource(let resource): LwM2MPath(.resourceInstance(resource, id))
        case .resourceInstance: preconditionFailure("a resource instance path cannot be extended")
        }
    }

    /// The path one level up (the root stays the root).
    public var parent: LwM2MPath {
        switch kind {
        case .root, .object: .root
        case .instance(let instance): LwM2MPath(.object(instance.objectID))
        case .resource(let resource): resource.instance.path
        case .resourceInstance(let resource, _): resource.path
        }
    }

    /// Path order: by IDs level by level, a path before the paths below it
    /// (`/3 < /3/0 < /3/0/1 < /3/1`).
    @inlinable
    public static func < (lhs: LwM2MPath, rhs: LwM2MPath) -> Bool {
        let left = lhs.packed, right = rhs.packed
        let leftDepth = lhs.depth, rightDepth = rhs.depth
        if leftDepth == rightDepth { return left < right }
        // Compare the common prefix; when equal, the shorter path comes first.
        let shift = UInt64(64 - 16 * Swift.min(leftDepth, rightDepth))
        if shift < 64, left >> shift != right >> shift { return left >> shift < right >> shift }
        return leftDepth < rightDepth
    }

    public var description: String {
        switch kind {
        case .root: "/"
        case .object(let objectID): "/\(objectID)"
        case .instance(let instance): instance.description
        case .resource(let resource): resource.description
        case .resourceInstance(let resource, let id): "\(resource)/\(id)"
        }
    }
}
