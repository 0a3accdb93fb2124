/// An object whose notifications must reach the observing server even over a lossy link (the
/// Firmware Update object: a lost State or Update Result notification leaves the server waiting
/// for an update that has finished). Its notifications go confirmable, retransmitted until
/// acknowledged (RFC 7641 §4.5), where other objects' go non-confirmable.
public protocol ConfirmablyNotified: LwM2MObject {
    /// Whether a notification of an observation of `path` (this object, an instance or a
    /// resource of it) is sent confirmable.
    func notifiesConfirmably(_ path: LwM2MPath) -> Bool
}

extension ObjectRegistry {
    /// Whether a notification of an observation of `paths` goes confirmable: one of them is in
    /// an object that asks for it (`ConfirmablyNotified`).
    public func notifiesConfirmably(_ paths: [LwM2MPath]) -> Bool {
        paths.contains { path in
            guard let objectID = path.objectID,
                  let object = object(objectID) as? any ConfirmablyNotified else { return false }
            return object.notifiesConfirmably(path)
        }
    }
}
