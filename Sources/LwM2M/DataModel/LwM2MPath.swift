/// An LwM2M path: `/o`, `/o/i`, `/o/i/r` or `/o/i/r/ri` (or the root `/`), each ID 0...65534
/// (65535 is reserved, TS 1.1 §7.2).
public struct LwM2MPath: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var objectID: UInt16?
    public var instanceID: UInt16?
    public var resourceID: UInt16?
    public var resourceInstanceID: UInt16?

    /// The root path `/`.
    public static let root = LwM2MPath()

    public init() {}

    /// A path from its IDs; later IDs require the earlier ones.
    public init(_ objectID: UInt16, _ instanceID: UInt16? = nil, _ resourceID: UInt16? = nil,
                _ resourceInstanceID: UInt16? = nil) {
        precondition(instanceID != nil || resourceID == nil, "a resource needs an instance")
        precondition(resourceID != nil || resourceInstanceID == nil, "a resource instance needs a resource")
        self.objectID = objectID
        self.instanceID = instanceID
        self.resourceID = resourceID
        self.resourceInstanceID = resourceInstanceID
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
        guard segments.count <= 4 else { return nil }
        var ids: [UInt16] = []
        for segment in segments {
            guard !segment.isEmpty, segment.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  segment == "0" || !segment.hasPrefix("0"),
                  segment.utf8.count <= 5, let id = UInt16(segment), id != 65535 else { return nil }
            ids.append(id)
        }
        self.init()
        if ids.count > 0 { objectID = ids[0] }
        if ids.count > 1 { instanceID = ids[1] }
        if ids.count > 2 { resourceID = ids[2] }
        if ids.count > 3 { resourceInstanceID = ids[3] }
    }

    /// Number of IDs: 0 (root) to 4 (resource instance).
    public var depth: Int {
        objectID == nil ? 0 : instanceID == nil ? 1 : resourceID == nil ? 2 : resourceInstanceID == nil ? 3 : 4
    }

    public var isRoot: Bool { objectID == nil }
    public var isObject: Bool { depth == 1 }
    public var isObjectInstance: Bool { depth == 2 }
    public var isResource: Bool { depth == 3 }
    public var isResourceInstance: Bool { depth == 4 }

    /// The IDs in order.
    public var ids: [UInt16] { [objectID, instanceID, resourceID, resourceInstanceID].compactMap { $0 } }

    /// The ID at `level` (0 object … 3 resource instance), `nil` below the path's depth.
    @inlinable
    public func id(at level: Int) -> UInt16? {
        switch level {
        case 0: objectID
        case 1: instanceID
        case 2: resourceID
        case 3: resourceInstanceID
        default: nil
        }
    }

    /// Whether `other` equals this path or lies below it. (No allocation: this runs for every
    /// record of every read and notification.)
    public func contains(_ other: LwM2MPath) -> Bool {
        let count = depth
        guard count <= other.depth else { return false }
        for level in 0..<count where id(at: level) != other.id(at: level) { return false }
        return true
    }

    /// This path extended by one ID.
    public func appending(_ id: UInt16) -> LwM2MPath {
        var path = self
        switch depth {
        case 0: path.objectID = id
        case 1: path.instanceID = id
        case 2: path.resourceID = id
        case 3: path.resourceInstanceID = id
        default: preconditionFailure("a resource instance path cannot be extended")
        }
        return path
    }

    /// The path one level up (the root stays the root).
    public var parent: LwM2MPath {
        var path = self
        switch depth {
        case 4: path.resourceInstanceID = nil
        case 3: path.resourceID = nil
        case 2: path.instanceID = nil
        case 1: path.objectID = nil
        default: break
        }
        return path
    }

    public static func < (lhs: LwM2MPath, rhs: LwM2MPath) -> Bool {
        for level in 0..<4 {
            switch (lhs.id(at: level), rhs.id(at: level)) {
            case (nil, nil): return false
            case (nil, _): return true
            case (_, nil): return false
            case (let a?, let b?): if a != b { return a < b }
            }
        }
        return false
    }

    public var description: String { isRoot ? "/" : "/" + ids.map(String.init).joined(separator: "/") }
}
