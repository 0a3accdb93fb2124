import CTSS2

/// The content of one blob file: TPM objects (public and encrypted private parts, as the TPM
/// returned them from TPM2_Create) that only the TPM holding the parent key can load.
///
/// File format, version 1 (all integers big-endian):
/// ```
/// "LWTB"            magic
/// u8  version       1
/// u8  kind          1 = sealed secret, 2 = signing key
/// u8  flags         bit 0: bound to a PCR policy
/// u8  reserved      0
/// u32 parent        persistent handle of the storage key the objects were created under
/// [3] pcr bitmap    SHA-256 bank, present only with flag bit 0
/// u8  count         number of objects (a long secret is sealed in chunks of 128 bytes)
/// count × { TPM2B_PUBLIC, TPM2B_PRIVATE }   TSS marshalled form (each starts with its u16 size)
/// ```
/// Nothing in the file is secret: the private parts are encrypted and integrity-protected with
/// keys derived from the parent's seed, which never leaves the TPM.
struct TPMBlob {
    enum Kind: UInt8 {
        case sealedSecret = 1
        case signingKey = 2
    }

    /// One loadable object.
    struct Object {
        var publicArea: TPM2B_PUBLIC
        var privateArea: TPM2B_PRIVATE
    }

    static let magic: [UInt8] = Array("LWTB".utf8)
    static let version: UInt8 = 1

    var kind: Kind
    var parentHandle: UInt32
    var pcrPolicy: PCRSelection?
    var objects: [Object]

    /// The file bytes.
    func serialized() throws(TPMError) -> [UInt8] {
        var bytes = Self.magic
        bytes += [Self.version, kind.rawValue, pcrPolicy == nil ? 0 : 1, 0]
        bytes += [UInt8(parentHandle >> 24), UInt8(parentHandle >> 16 & 0xFF),
                  UInt8(parentHandle >> 8 & 0xFF), UInt8(parentHandle & 0xFF)]
        if let pcrPolicy { bytes += pcrPolicy.bitmap }
        bytes.append(UInt8(objects.count))
        let tss = try TSS2Library.functions()
        var buffer = [UInt8](repeating: 0, count: MemoryLayout<TPM2B_PUBLIC>.size + MemoryLayout<TPM2B_PRIVATE>.size)
        for object in objects {
            var offset = 0
            var publicArea = object.publicArea
            var privateArea = object.privateArea
            var rc = ctss2_Tss2_MU_TPM2B_PUBLIC_Marshal(tss, &publicArea, &buffer, buffer.count, &offset)
            if rc == 0 { rc = ctss2_Tss2_MU_TPM2B_PRIVATE_Marshal(tss, &privateArea, &buffer, buffer.count, &offset) }
            guard rc == 0 else { throw TPMError(rc: rc, operation: "marshal blob") }
            bytes += buffer[0..<offset]
        }
        return bytes
    }

    /// Parses file bytes, expecting a blob of `kind`.
    init(parsing bytes: [UInt8], kind expected: Kind) throws(TPMError) {
        guard bytes.count >= 13, Array(bytes[0..<4]) == Self.magic else {
            throw .malformedBlob("not a blob file (bad magic or too short)")
        }
        guard bytes[4] == Self.version else { throw .malformedBlob("unknown blob version \(bytes[4])") }
        guard bytes[5] == expected.rawValue else {
            throw .malformedBlob("blob kind \(bytes[5]), expected \(expected.rawValue)")
        }
        let flags = bytes[6]
        guard flags & ~1 == 0, bytes[7] == 0 else { throw .malformedBlob("unknown flags") }
        kind = expected
        parentHandle = bytes[8..<12].reduce(0) { $0 << 8 | UInt32($1) }
        var position = 12
        if flags & 1 != 0 {
            guard bytes.count >= position + 4, let selection = PCRSelection(bitmap: Array(bytes[position..<position + 3])) else {
                throw .malformedBlob("bad PCR selection")
            }
            pcrPolicy = selection
            position += 3
        } else {
            pcrPolicy = nil
        }
        let count = Int(bytes[position])
        position += 1
        guard count >= 1, count <= TPMConstants.maximumSecretLength / TPMConstants.maximumSealedChunk else {
            throw .malformedBlob("bad object count \(count)")
        }
        let tss = try TSS2Library.functions()
        var objects: [Object] = []
        for _ in 0..<count {
            var object = Object(publicArea: TPM2B_PUBLIC(), privateArea: TPM2B_PRIVATE())
            var offset = position
            var rc = ctss2_Tss2_MU_TPM2B_PUBLIC_Unmarshal(tss, bytes, bytes.count, &offset, &object.publicArea)
            if rc == 0 { rc = ctss2_Tss2_MU_TPM2B_PRIVATE_Unmarshal(tss, bytes, bytes.count, &offset, &object.privateArea) }
            guard rc == 0 else { throw .malformedBlob("truncated or corrupt object (\(TPMError.decode(rc)))") }
            position = offset
            objects.append(object)
        }
        guard position == bytes.count else { throw .malformedBlob("trailing bytes") }
        self.objects = objects
    }

    init(kind: Kind, parentHandle: UInt32, pcrPolicy: PCRSelection?, objects: [Object]) {
        self.kind = kind
        self.parentHandle = parentHandle
        self.pcrPolicy = pcrPolicy
        self.objects = objects
    }
}
