import CTSS2

/// PCRs whose current values a sealed secret is bound to (TPM2_PolicyPCR).
///
/// A secret sealed with a selection unseals only while those PCRs hold the values they held at
/// sealing time: after a firmware or boot-chain change the store reports `.policyMismatch` and
/// the secret must be provisioned again. Only the SHA-256 bank is supported.
public struct PCRSelection: Equatable, Sendable, CustomStringConvertible {
    /// PCR indices, 0...23, sorted and unique.
    public let indices: [Int]

    /// Fails for an empty selection or an index outside 0...23.
    public init?(indices: [Int]) {
        let unique = Array(Set(indices)).sorted()
        guard !unique.isEmpty, unique.allSatisfy({ (0...23).contains($0) }) else { return nil }
        self.indices = unique
    }

    /// Parses `sha256:0,2,7` (the tpm2-tools spelling); `0,2,7` means the SHA-256 bank too.
    public init(parsing text: String) throws(TPMError) {
        var list = Substring(text)
        if let colon = text.firstIndex(of: ":") {
            guard text[..<colon] == "sha256" else {
                throw .invalidConfiguration("only the sha256 PCR bank is supported: \(text)")
            }
            list = text[text.index(after: colon)...]
        }
        var indices: [Int] = []
        for item in list.split(separator: ",", omittingEmptySubsequences: false) {
            guard let index = Int(item) else {
                throw .invalidConfiguration("malformed PCR selection: \(text)")
            }
            indices.append(index)
        }
        guard let selection = PCRSelection(indices: indices) else {
            throw .invalidConfiguration("PCR indices must be 0...23: \(text)")
        }
        self = selection
    }

    public var description: String { "sha256:" + indices.map(String.init).joined(separator: ",") }

    /// The TPML_PCR_SELECTION for this selection (one SHA-256 bank, 3-byte bitmap).
    var tpmlSelection: TPML_PCR_SELECTION {
        var list = TPML_PCR_SELECTION()
        list.count = 1
        list.pcrSelections.0.hash = TPMConstants.algSHA256
        list.pcrSelections.0.sizeofSelect = 3
        withUnsafeMutableBytes(of: &list.pcrSelections.0.pcrSelect) { bitmap in
            for index in indices { bitmap[index / 8] |= UInt8(1 << (index % 8)) }
        }
        return list
    }

    /// The 3-byte bitmap (bit `i % 8` of byte `i / 8` selects PCR `i`), as stored in blobs.
    var bitmap: [UInt8] {
        var bytes: [UInt8] = [0, 0, 0]
        for index in indices { bytes[index / 8] |= UInt8(1 << (index % 8)) }
        return bytes
    }

    /// The selection a stored bitmap describes; nil for an empty or oversized bitmap.
    init?(bitmap: [UInt8]) {
        guard bitmap.count == 3 else { return nil }
        var indices: [Int] = []
        for byte in 0..<3 {
            for bit in 0..<8 where bitmap[byte] & UInt8(1 << bit) != 0 { indices.append(byte * 8 + bit) }
        }
        self.init(indices: indices)
    }
}
