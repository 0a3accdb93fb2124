#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs `body` on this thread with the file-system user ID of `nobody` when the tests run as
/// root, so that a file of mode 000 or a read-only directory denies access as it would to the
/// agent's own user on a board (the kernel drops CAP_DAC_OVERRIDE with a non-zero fsuid). The
/// fsuid is per thread: other tests running in parallel keep root's. `body` must not suspend
/// (a synchronous test body stays on its thread). As another user, `body` just runs.
public func withoutRootFileAccess<R>(_ body: () throws -> R) rethrows -> R {
    guard geteuid() == 0, let setFileSystemUserID else { return try body() }
    let previous = setFileSystemUserID(65534)
    defer { _ = setFileSystemUserID(UInt32(bitPattern: previous)) }
    return try body()
}

/// setfsuid(2), which Swift's Glibc module does not declare; it returns the previous fsuid.
private typealias SetFileSystemUserID = @convention(c) (UInt32) -> Int32
private let setFileSystemUserID: SetFileSystemUserID? = dlsym(nil, "setfsuid")
    .map { unsafeBitCast($0, to: SetFileSystemUserID.self) }
