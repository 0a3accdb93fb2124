#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs `body` on a new POSIX thread (independent of the Swift concurrency pool, so a blocking
/// poll loop cannot starve the test runner) and returns a function that joins it.
public func startThread(_ body: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
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
    let created = thread
    return { pthread_join(created, nil) }
}
