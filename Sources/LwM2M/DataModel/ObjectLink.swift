/// A reference to an object instance (`Objlnk`): `65535:65535` is the null link.
public struct ObjectLink: Hashable, Sendable, CustomStringConvertible {
    public var objectID: UInt16
    public var instanceID: UInt16

    public init(objectID: UInt16, instanceID: UInt16) {
        self.objectID = objectID
        self.instanceID = instanceID
    }

    public static let null = ObjectLink(objectID: 65535, instanceID: 65535)

    /// Parses "3:0".
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        func number(_ part: Substring) -> UInt16? {
            // Digits only: UInt16("+3") would accept a sign.
            part.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) ? UInt16(part) : nil
        }
        guard parts.count == 2, let object = number(parts[0]), let instance = number(parts[1]) else { return nil }
        self.init(objectID: object, instanceID: instance)
    }

    public var description: String { "\(objectID):\(instanceID)" }
}
