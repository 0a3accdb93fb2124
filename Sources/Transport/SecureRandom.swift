import Glibc

/// A cryptographically secure random number generator backed by the kernel
/// (`getrandom(2)`, falling back to `/dev/urandom`). Every value costs one system call.
///
/// Holds no state, so copies never repeat each other's output.
public struct SystemRandom: RandomNumberGenerator, Sendable {
    public init() {}

    /// The next 64 random bits.
    public mutating func next() -> UInt64 { secureRandomUInt64() }
}

/// 64 cryptographically secure random bits from the kernel.
public func secureRandomUInt64() -> UInt64 {
    var value: UInt64 = 0
    withUnsafeMutableBytes(of: &value) { secureRandomBytes($0) }
    return value
}

/// Fills `buffer` with cryptographically secure random bytes from the kernel.
///
/// Uses `getrandom(2)` (retrying on `EINTR` and short reads), which blocks only until the
/// kernel's pool is first initialised at boot. If the C library or kernel lacks `getrandom`,
/// reads `/dev/urandom` instead. Traps if neither source works: there is no safe fallback.
public func secureRandomBytes(_ buffer: UnsafeMutableRawBufferPointer) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    if let getrandom = getrandomFunction {
        var filled = 0
        while filled < buffer.count {
            let count = getrandom(base + filled, buffer.count - filled, 0)
            if count > 0 {
                filled += count
            } else if count < 0 && errno == EINTR {
                continue
            } else if count < 0 && errno == ENOSYS && filled == 0 {
                break  // kernel older than 3.17: use the device instead
            } else {
                fatalError("getrandom failed: \(TransportError.errorText(errno))")
            }
        }
        if filled == buffer.count { return }
    }
    readDevURandom(buffer)
}

private typealias GetRandomFunction = @convention(c) (UnsafeMutableRawPointer?, Int, UInt32) -> Int

/// `getrandom` looked up at run time: Swift's Glibc module does not import `<sys/random.h>`,
/// and a missing symbol (old C library) selects the `/dev/urandom` fallback.
private let getrandomFunction: GetRandomFunction? =
    dlsym(nil, "getrandom").map { unsafeBitCast($0, to: GetRandomFunction.self) }

private func readDevURandom(_ buffer: UnsafeMutableRawBufferPointer) {
    var fd: Int32
    repeat { fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
    guard fd >= 0 else { fatalError("no secure random source: \(TransportError.errorText(errno))") }
    defer { close(fd) }
    var filled = 0
    while filled < buffer.count {
        let count = read(fd, buffer.baseAddress! + filled, buffer.count - filled)
        if count > 0 {
            filled += count
        } else if !(count < 0 && errno == EINTR) {
            fatalError("reading /dev/urandom failed: \(TransportError.errorText(errno))")
        }
    }
}
