/// The path of one object instance, `/o/i`: both IDs always present. What code that works on an
/// instance holds once it has matched `LwM2MPath.kind` (or taken `LwM2MPath.instancePath`).
public struct InstancePath: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var objectID: UInt16
    public var instanceID: UInt16

    /// `/objectID/instanceID`.
    @inlinable
    public init(_ objectID: UInt16, _ instanceID: UInt16) {
        self.objectID = objectID
        self.instanceID = instanceID
    }

    /// The same instance as an `LwM2MPath`.
    @inlinable
    public var path: LwM2MPath { LwM2MPath(.instance(self)) }

    /// The path of resource `resourceID` in this instance.
    @inlinable
    public func appending(_ resourceID: UInt16) -> ResourcePath {
        ResourcePath(objectID, instanceID, resourceID)
    }

    /// The IDs packed left-aligned into 64 bits (see `LwM2MPath.packed`).
    @inlinable
    var packed: UInt64 { UInt64(objectID) << 48 | UInt64(instanceID) << 32 }

    /// By object ID, then instance ID.
    @inlinable
    public static func < (lhs: InstancePath, rhs: InstancePath) -> Bool { lhs.packed < rhs.packed }

    public var description: String { "/\(objectID)/\(instanceID)" }
}
