import CMbedTLS
import Time

/// The mbedTLS I/O and timer callbacks: bound to the session's queues and to the `Instant`s
/// the driver passes in, never to a socket or the system clock.
extension DTLSClientSession {
    private static func session(_ context: UnsafeMutableRawPointer?) -> DTLSClientSession {
        Unmanaged<DTLSClientSession>.fromOpaque(context!).takeUnretainedValue()
    }

    static let sendCallback: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<UInt8>?, Int) -> Int32 = {
        context, bytes, count in
        guard let bytes else { return MBEDTLS_ERR_SSL_BAD_INPUT_DATA }
        session(context).core.outgoing.append(Array(UnsafeBufferPointer(start: bytes, count: count)))
        return Int32(count)
    }

    static let receiveCallback: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?, Int) -> Int32 = {
        context, buffer, capacity in
        let session = session(context)
        guard let buffer, !session.core.incoming.isEmpty else { return MBEDTLS_ERR_SSL_WANT_READ }
        let datagram = session.core.incoming.removeFirst()
        let count = min(datagram.count, capacity)  // mbedTLS offers a whole record buffer
        datagram.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: count) }
        return Int32(count)
    }

    static let setTimerCallback: @convention(c) (UnsafeMutableRawPointer?, UInt32, UInt32) -> Void = {
        context, intermediate, final in
        let session = session(context)
        session.timerStart = session.now
        session.timerIntermediate = .milliseconds(intermediate)
        session.timerFinal = .milliseconds(final)
    }

    /// -1 cancelled, 0 running, 1 intermediate delay passed, 2 final delay passed.
    static let getTimerCallback: @convention(c) (UnsafeMutableRawPointer?) -> Int32 = { context in
        let session = session(context)
        guard session.timerFinal > .zero else { return -1 }
        let elapsed = session.now - session.timerStart
        if elapsed >= session.timerFinal { return 2 }
        if elapsed >= session.timerIntermediate { return 1 }
        return 0
    }
}
