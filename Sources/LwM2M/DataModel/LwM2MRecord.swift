/// One leaf of a payload: a resource (or resource instance) path and its value. Every content
/// format is decoded to and encoded from a list of records.
public struct LwM2MRecord: Hashable, Sendable, CustomStringConvertible {
    public var path: LwM2MPath
    public var value: ResourceValue

    public init(_ path: LwM2MPath, _ value: ResourceValue) {
        self.path = path
        self.value = value
    }

    public var description: String { "\(path)=\(value)" }
}
