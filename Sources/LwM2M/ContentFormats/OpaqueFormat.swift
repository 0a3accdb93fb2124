/// The LwM2M opaque content format (`application/octet-stream`, content format 42; TS 1.1
/// §7.4.2): the raw bytes of one Opaque resource or resource instance (firmware images,
/// certificates, keys). Static and sans-IO.
///
/// Only Opaque resources can be carried: any other value or resource type is `.unsupported`
/// (the caller answers 4.06 Not Acceptable on Read, 4.15 Unsupported Content-Format on Write).
public enum OpaqueFormat {
    /// The bytes of the single opaque record at `base` (a resource or resource-instance path).
    public static func encode(_ records: [LwM2MRecord], base: LwM2MPath) throws(ContentFormatError) -> [UInt8] {
        guard base.depth >= 3, records.count == 1, records[0].path == base else {
            throw .unsupported("application/octet-stream carries exactly one resource or resource instance value")
        }
        guard case .opaque(let bytes) = records[0].value else {
            throw .unsupported(
                "application/octet-stream carries only Opaque values, \(base) is \(records[0].value.type.rawValue)")
        }
        return bytes
    }

    /// The record for the payload written to `base`. `type` is asked with the resource path
    /// `/o/i/r` (also for an instance); nil → `.unknownResource`.
    public static func decode(_ bytes: [UInt8], base: LwM2MPath,
                              type: (LwM2MPath) -> ResourceType?) throws(ContentFormatError) -> [LwM2MRecord] {
        guard base.depth >= 3 else {
            throw .unsupported("application/octet-stream carries exactly one resource or resource instance value")
        }
        let resource = base.isResourceInstance ? base.parent : base
        guard let resourceType = type(resource) else { throw .unknownResource(resource) }
        guard resourceType == .opaque else {
            throw .unsupported(
                "application/octet-stream carries only Opaque values, \(resource) is \(resourceType.rawValue)")
        }
        return [LwM2MRecord(base, .opaque(bytes))]
    }
}
