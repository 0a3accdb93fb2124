import LwM2M

/// A demo LwM2M object (`/32769/0`) that takes a package streamed block by block to its
/// Package resource (0) and keeps only its size and checksum: what a streamed Write
/// (`StreamingWritable`) looks like from the object's side, for trying it with any CoAP client
/// without the Firmware Update object. Nothing of the package is kept.
///
/// | resource | operations | value |
/// |---|---|---|
/// | 0 Package | W (opaque) | the package, block-wise (Block1) or whole |
/// | 1 Size | R | bytes received of the current package |
/// | 2 Checksum | R | FNV-1a 32 of those bytes, 8 hex digits |
/// | 3 Complete | R | the last block arrived |
/// | 4 Abandoned | R | transfers that ended without their last block |
public final class DemoPackageObject: StreamingWritable {
    /// The object ID (first of the private range).
    public static let objectID: UInt16 = 32769

    public let definition = ObjectDefinition(
        id: DemoPackageObject.objectID, name: "Demo Package Sink", version: "1.0", lwm2mVersion: "1.1",
        isMultiple: false, isMandatory: false,
        resources: [
            ResourceDefinition(id: 0, name: "Package", operations: .write, isMultiple: false, isMandatory: true, type: .opaque),
            ResourceDefinition(id: 1, name: "Size", operations: .read, isMultiple: false, isMandatory: true, type: .integer),
            ResourceDefinition(id: 2, name: "Checksum", operations: .read, isMultiple: false, isMandatory: true, type: .string),
            ResourceDefinition(id: 3, name: "Complete", operations: .read, isMultiple: false, isMandatory: true, type: .boolean),
            ResourceDefinition(id: 4, name: "Abandoned", operations: .read, isMultiple: false, isMandatory: true,
                               type: .integer),
        ])
    public var changeHandler: ((LwM2MPath) -> Void)?

    /// Bytes received of the current package.
    public private(set) var size: Int64 = 0
    /// FNV-1a 32 of those bytes.
    public private(set) var checksum: UInt32 = 0x811C_9DC5
    public private(set) var isComplete = false
    public private(set) var abandoned: Int64 = 0

    public init() {}

    public var instanceIDs: [UInt16] { [0] }

    public func resourceIDs(in instance: UInt16) -> [UInt16] { instance == 0 ? [0, 1, 2, 3, 4] : [] }

    public func read(_ path: LwM2MPath) throws(LwM2MError) -> ResourceContent {
        switch path.resourceID {
        case 0: return .single(.opaque([]))
        case 1: return .single(.integer(size))
        case 2: return .single(.string(Self.hex(checksum)))
        case 3: return .single(.boolean(isComplete))
        case 4: return .single(.integer(abandoned))
        default: throw .notFound
        }
    }

    /// A whole package in one message (or an empty write: reset).
    public func write(_ path: LwM2MPath, _ content: ResourceContent) throws(LwM2MError) {
        guard path.resourceID == 0, case .single(.opaque(let bytes)) = content else { throw .methodNotAllowed }
        try receiveBlock(path, offset: 0, bytes: bytes, isLast: true, format: nil)
    }

    public func receiveBlock(_ path: LwM2MPath, offset: Int64, bytes: [UInt8], isLast: Bool, format: UInt16?)
        throws(LwM2MError)
    {
        guard path.resourceID == 0 else { throw .methodNotAllowed }
        if offset == 0 { reset() }
        guard offset == size else { throw .badRequest("expected the bytes at offset \(size), not \(offset)") }
        for byte in bytes {
            checksum ^= UInt32(byte)
            checksum = checksum &* 0x0100_0193
        }
        size += Int64(bytes.count)
        if isLast {
            isComplete = true
            for resource: UInt16 in [1, 2, 3] { changeHandler?(LwM2MPath(Self.objectID, 0, resource)) }
        }
    }

    public func abandonBlocks(_ path: LwM2MPath) {
        reset()
        abandoned += 1
        changeHandler?(LwM2MPath(Self.objectID, 0, 4))
    }

    private func reset() {
        size = 0
        checksum = 0x811C_9DC5
        isComplete = false
    }

    static func hex(_ value: UInt32) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for shift in stride(from: 28, through: 0, by: -4) { text.append(digits[Int(value >> UInt32(shift)) & 0xF]) }
        return String(decoding: text, as: UTF8.self)
    }
}
