/// The path of one resource, `/o/i/r`: all three IDs always present. What code that works on a
/// resource holds once it has matched `LwM2MPath.kind` (or taken `LwM2MPath.resourcePath`).
public struct ResourcePath: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var objectID: UInt16
    public var instanceID: UInt16
    public var resourceID: UInt16

    /// `/objectID/instanceID/resourceID`.
    @inlinable
    public init(_ objectID: UInt16, _ instanceID: UInt16, _ resourceID: UInt16) {
        self.objectID = objectID
        self.instanceID = instanceID
        self.resourceID = resourceID
    }

    /// The same resource as an `LwM2MPath`.
    @inlinable
    public var path: LwM2MPath { LwM2MPath(.resource(self)) }

    /// The instance holding this resource.
    @inlinable
    public var instance: InstancePath { InstancePath(objectID, instanceID) }

    /// The path of resource instance `id` of this resource.
    @inlinable
    public func appending(_ id: UInt16) -> LwM2MPath { LwM2MPath(.resourceInstance(self, id)) }

    /// The IDs packed left-aligned into 64 bits (see `LwM2MPath.packed`).
    @inlinable
    var packed: UInt64 { UInt64(objectID) << 48 | UInt64(instanceID) << 32 | UInt64(resourceID) << 16 }

    /// By object, instance, then resource ID.
    @inlinable
    public static func < (lhs: ResourcePath, rhs: ResourcePath) -> Bool { lhs.packed < rhs.packed }

    public var description: String { "/\(objectID)/\(instanceID)/\(resourceID)" }
}
