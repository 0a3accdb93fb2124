import Glibc

/// Wakes a ``Poller`` from another thread or from a signal handler.
///
/// Register ``fileDescriptor`` with the poller; ``signal()`` makes it readable and ``drain()``
/// (called by the loop when it is readable) resets it. Built on `eventfd(2)`, falling back to a
/// pipe where `eventfd` is unavailable. Signals coalesce: many `signal()` calls before one
/// `drain()` wake the loop once.
public final class WakeUpSignal: Sendable {
    /// The descriptor to register with a ``Poller``; readable while a signal is pending.
    public let fileDescriptor: Int32

    /// The descriptor ``signal(descriptor:)`` writes to. Equal to ``fileDescriptor`` for an
    /// eventfd; the write end of the pipe otherwise. Store it in a global for a C signal handler,
    /// and keep this object alive for as long as the handler is installed: `deinit` closes it.
    public let signalDescriptor: Int32

    /// Creates a non-blocking, close-on-exec eventfd (or pipe).
    public init() throws(TransportError) {
        if let eventfd = eventfdFunction {
            let fd = eventfd(0, O_NONBLOCK | O_CLOEXEC)  // EFD_NONBLOCK | EFD_CLOEXEC
            guard fd >= 0 else { throw TransportError.lastError("eventfd") }
            fileDescriptor = fd
            signalDescriptor = fd
            return
        }
        var ends: (Int32, Int32) = (-1, -1)
        let status = withUnsafeMutableBytes(of: &ends) { pipe($0.baseAddress!.assumingMemoryBound(to: Int32.self)) }
        guard status == 0 else { throw TransportError.lastError("pipe") }
        for fd in [ends.0, ends.1] {
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        fileDescriptor = ends.0
        signalDescriptor = ends.1
    }

    deinit {
        close(fileDescriptor)
        if signalDescriptor != fileDescriptor { close(signalDescriptor) }
    }

    /// Makes ``fileDescriptor`` readable. Safe from any thread.
    public func signal() {
        WakeUpSignal.signal(descriptor: signalDescriptor)
    }

    /// Makes the wake-up descriptor readable: one `write(2)` of 8 bytes, which is
    /// async-signal-safe, so a C signal handler may call it with ``signalDescriptor``.
    /// A full counter or pipe means a wake-up is already pending and is ignored.
    public static func signal(descriptor: Int32) {
        var one: UInt64 = 1
        while write(descriptor, &one, MemoryLayout<UInt64>.size) < 0 && errno == EINTR {}
    }

    /// Consumes pending signals so the descriptor stops being readable.
    ///
    /// - Returns: whether any signal was pending.
    @discardableResult
    public func drain() -> Bool {
        var pending = false
        var scratch: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        while true {
            let count = withUnsafeMutableBytes(of: &scratch) { read(fileDescriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                pending = true
                if fileDescriptor == signalDescriptor { return true }  // eventfd: one read resets it
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                return pending
            }
        }
    }
}

private typealias EventFDFunction = @convention(c) (UInt32, Int32) -> Int32

/// `eventfd` looked up at run time: Swift's Glibc module does not import `<sys/eventfd.h>`.
private let eventfdFunction: EventFDFunction? =
    dlsym(nil, "eventfd").map { unsafeBitCast($0, to: EventFDFunction.self) }
