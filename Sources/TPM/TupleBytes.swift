#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// TPM2B byte arrays import into Swift as fixed-size tuples; these helpers copy into and out of
// them through raw buffers.

/// Copies `bytes` into the start of the tuple `storage`; returns the count as a TPM2B size.
@discardableResult
func copyIntoTuple<T>(_ storage: inout T, _ bytes: UnsafeRawBufferPointer) -> UInt16 {
    withUnsafeMutableBytes(of: &storage) { target in
        precondition(bytes.count <= target.count, "TPM2B buffer overflow")
        if let base = bytes.baseAddress, bytes.count > 0 { target.baseAddress!.copyMemory(from: base, byteCount: bytes.count) }
    }
    return UInt16(bytes.count)
}

/// The first `count` bytes of the tuple `storage` (clamped to its size).
func bytesOfTuple<T>(_ storage: T, count: UInt16) -> [UInt8] {
    withUnsafeBytes(of: storage) { Array($0.prefix(Int(count))) }
}

/// Zeroes the memory of `value` in place (sensitive structures on the stack).
func zeroizeValue<T>(_ value: inout T) {
    withUnsafeMutableBytes(of: &value) { raw in
        if let base = raw.baseAddress { memset(base, 0, raw.count) }
    }
}

/// Zeroes `size` bytes at `pointer` (ESAPI outputs before `Esys_Free`).
func zeroizeMemory(_ pointer: UnsafeMutableRawPointer?, size: Int) {
    if let pointer { memset(pointer, 0, size) }
}

/// Left-pads a big-endian integer to `width` bytes (ECC coordinates may come back shorter).
func leftPadded(_ bytes: [UInt8], to width: Int) -> [UInt8] {
    bytes.count >= width ? Array(bytes.suffix(width)) : [UInt8](repeating: 0, count: width - bytes.count) + bytes
}
