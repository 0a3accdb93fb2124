import CGnuTLS
import DTLS
import Glibc

/// GnuTLS's transport and verify callbacks: bound to the session's queues and to the pinned
/// server key, never to a socket.
extension RawPublicKeySession {
    static func session(_ context: UnsafeMutableRawPointer?) -> RawPublicKeySession {
        Unmanaged<RawPublicKeySession>.fromOpaque(context!).takeUnretainedValue()
    }

    /// Every flight datagram GnuTLS writes goes to the outgoing queue.
    static let pushCallback: @convention(c) (UnsafeMutableRawPointer?, UnsafeRawPointer?, Int) -> Int = { context, bytes, count in
        guard let bytes else { return -1 }
        session(context).core.outgoing.append(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        return count
    }

    /// One queued datagram, or EAGAIN (GnuTLS then checks its retransmission timer and returns).
    static let pullCallback: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, Int) -> Int = {
        context, buffer, capacity in
        let session = session(context)
        guard let buffer, !session.core.incoming.isEmpty else {
            cgnutls_transport_set_errno(session.api, session.session, EAGAIN)
            return -1
        }
        let datagram = session.core.incoming.removeFirst()
        let count = min(datagram.count, capacity)
        datagram.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: count) }
        return count
    }

    /// Non-blocking: data is there or it is not (1 or 0), whatever wait GnuTLS asks for.
    static let pullTimeoutCallback: @convention(c) (UnsafeMutableRawPointer?, UInt32) -> Int32 = { context, _ in
        session(context).core.incoming.isEmpty ? 0 : 1
    }

    /// The server's Certificate message: it must carry a raw public key equal to /0/x/4.
    static let verifyCallback: @convention(c) (OpaquePointer?) -> Int32 = { gnutlsSession in
        guard let gnutlsSession, let library = try? GnuTLSLibrary.shared.get(),
              let context = cgnutls_session_get_ptr(library.api, gnutlsSession) else { return Int32(CGNUTLS_E_CERTIFICATE_ERROR) }
        let session = session(context)
        session.pinFailure = session.checkServerKey(gnutlsSession)
        return session.pinFailure == nil ? 0 : Int32(CGNUTLS_E_CERTIFICATE_ERROR)
    }

    /// `nil` when the server presented exactly the pinned SubjectPublicKeyInfo.
    private func checkServerKey(_ gnutlsSession: OpaquePointer) -> DTLSError? {
        guard cgnutls_server_certificate_type(api, gnutlsSession) == CGNUTLS_CRT_RAWPK else {
            return .serverPublicKeyMismatch(presented: "a certificate instead of a raw public key")
        }
        var count: UInt32 = 0
        guard let peers = cgnutls_certificate_get_peers(api, gnutlsSession, &count), count >= 1,
              let data = peers.pointee.data else {
            return .serverPublicKeyMismatch(presented: "no key")
        }
        let presented = Array(UnsafeBufferPointer(start: data, count: Int(peers.pointee.size)))
        guard presented != serverPublicKey else { return nil }
        return .serverPublicKeyMismatch(presented: "the key with SHA-256 \(hex(PublicKeyInfo.sha256(presented)))")
    }
}

func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    text.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: text, as: UTF8.self)
}
