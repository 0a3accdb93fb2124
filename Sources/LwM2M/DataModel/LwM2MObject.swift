/// One LwM2M object as the platform implements it: the single protocol a Device, Connectivity,
/// Firmware Update or sensor object conforms to. Class-bound so an implementation keeps its
/// state and can change it asynchronously (a sensor reading, a firmware download finishing),
/// telling the reporting layer through `changeHandler`.
///
/// Paths handed to these methods are already checked by `ObjectRegistry` and `RequestHandler`:
/// they name this object, an existing instance (except for `createInstance`), and a resource
/// the definition declares with the operation in question. Implementations still validate what
/// they rely on and throw `LwM2MError` rather than trap.
public protocol LwM2MObject: AnyObject {
    /// The object's definition (ID, resources and their operations and types).
    var definition: ObjectDefinition { get }

    /// The IDs of the existing object instances, ascending.
    var instanceIDs: [UInt16] { get }

    /// The IDs of the resources currently present in `instance` (holding a value, or executable),
    /// ascending; empty for an unknown instance.
    func resourceIDs(in instance: UInt16) -> [UInt16]

    /// The current content of the resource at `path` (`/o/i/r`), regardless of its Read
    /// operation: the registry decides what a server may read.
    func read(_ path: LwM2MPath) throws(LwM2MError) -> ResourceContent

    /// A server writes the resource at `path` (`/o/i/r`); `.multiple` replaces all instances.
    func write(_ path: LwM2MPath, _ content: ResourceContent) throws(LwM2MError)

    /// A server executes the resource at `path` (`/o/i/r`) with the Execute payload as
    /// `arguments` (TS 1.1 §5.4.5 argument syntax, not parsed here).
    func execute(_ path: LwM2MPath, arguments: [UInt8]) throws(LwM2MError)

    /// A server creates instance `id` holding `records` (resource and resource-instance paths
    /// under `/o/id`).
    func createInstance(_ id: UInt16, with records: [LwM2MRecord]) throws(LwM2MError)

    /// A server deletes instance `id`.
    func deleteInstance(_ id: UInt16) throws(LwM2MError)

    /// A Write-Replace of an instance removes the resource at `path` (`/o/i/r`, an optional
    /// writable resource the payload left out, TS 1.1 §6.3.3); the responder also calls it to
    /// undo a write to a resource that was absent before, when a later write failed.
    func removeResource(_ path: LwM2MPath) throws(LwM2MError)

    /// A Read of several resources (or a presence check and a Read) begins: until
    /// `endReading()`, an object backed by files or hardware may take each platform reading once
    /// and serve every resource from it (one consistent snapshot, one file read). The registry
    /// calls the pair around each Read; the default does nothing.
    func beginReading()

    /// The Read that `beginReading()` began has ended: readings are taken afresh again.
    func endReading()

    /// Called with the path of every value or instance that changed (set by `ObjectRegistry`
    /// when the object is registered). Implementations call it after each change, from
    /// whichever context owns the object.
    var changeHandler: ((LwM2MPath) -> Void)? { get set }
}

extension LwM2MObject {
    public func beginReading() {}
    public func endReading() {}

    /// Read-only by default: a server's Write is refused with 4.05.
    public func write(_ path: LwM2MPath, _ content: ResourceContent) throws(LwM2MError) {
        throw .methodNotAllowed
    }

    /// Nothing executable by default: 4.05.
    public func execute(_ path: LwM2MPath, arguments: [UInt8]) throws(LwM2MError) {
        throw .methodNotAllowed
    }

    /// Fixed instances by default: 4.05.
    public func createInstance(_ id: UInt16, with records: [LwM2MRecord]) throws(LwM2MError) {
        throw .methodNotAllowed
    }

    /// Fixed instances by default: 4.05.
    public func deleteInstance(_ id: UInt16) throws(LwM2MError) {
        throw .methodNotAllowed
    }

    /// Fixed resources by default: 4.05 (a Write-Replace leaving out a present optional
    /// resource then fails as a whole).
    public func removeResource(_ path: LwM2MPath) throws(LwM2MError) {
        throw .methodNotAllowed
    }
}
