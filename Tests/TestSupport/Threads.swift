#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs `body` on a new POSIX thread (independent of the Swift concurrency pool, so a blocking
/// poll loop cannot starve the test runner) and returns a function that joins it.
public func startThread(_ body: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
    let thread = spawnThread(body)
    return { pthread_join(thread, nil) }
}

/// Runs `body` on a new detached POSIX thread: for a test that must be able to give up on a
/// body that never returns (the thread then lives until the test process exits).
public func startDetachedThread(_ body: @escaping @Sendable () -> Void) {
    pthread_detach(spawnThread(body))
}

private func spawnThread(_ body: @escaping @Sendable () -> Void) -> pthread_t {
    final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(&thread, nil, { context in
        Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().body()
        return nil
    }, context)
    precondition(status == 0, "pthread_create failed")
    return thread
}
