#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import TestSupport

/// A TCP relay in front of a swtpm that records every byte exchanged, in both directions: what
/// an attacker probing the TPM bus would see. Listens on two consecutive ports (the swtpm TCTI
/// uses port + 1 for control) and forwards to the swtpm's two ports.
final class WireTap: @unchecked Sendable {
    let port: UInt16
    private var listeners: [Int32]
    /// Joins of the relay threads.
    private var joins: [@Sendable () -> Void] = []
    private var mutex = pthread_mutex_t()
    private var captured: [UInt8] = []

    init(forwardingTo swtpm: Swtpm) throws {
        pthread_mutex_init(&mutex, nil)
        var chosen: (UInt16, [Int32])?
        for _ in 0..<100 {
            guard let first = try? loopbackTCPSocket(port: 0, listening: true) else { continue }
            if let second = try? loopbackTCPSocket(port: first.port + 1, listening: true) {
                chosen = (first.port, [first.fd, second.fd])
                break
            }
            close(first.fd)
        }
        guard let chosen else { throw TestFailure("no two consecutive free ports for the tap") }
        port = chosen.0
        listeners = chosen.1
        for (listener, target) in zip(listeners, [swtpm.port, swtpm.controlPort]) {
            let job = RelayJob(tap: self, listener: listener, target: target)
            joins.append(startThread { job.run() })
        }
    }

    deinit { stop() }

    /// Stops relaying and joins the threads. Idempotent: closing a descriptor twice would close
    /// whatever another test opened under that number meanwhile (e.g. its TCTI socket).
    func stop() {
        for listener in listeners { shutdown(listener, Int32(SHUT_RDWR)) }
        for join in joins { join() }
        joins = []
        for listener in listeners { close(listener) }
        listeners = []
    }

    /// Everything seen so far, both directions concatenated in arrival order.
    var bytes: [UInt8] {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return captured
    }

    fileprivate func record(_ chunk: ArraySlice<UInt8>) {
        pthread_mutex_lock(&mutex)
        captured += chunk
        pthread_mutex_unlock(&mutex)
    }
}

private final class RelayJob: @unchecked Sendable {
    let tap: WireTap
    let listener: Int32
    let target: UInt16

    init(tap: WireTap, listener: Int32, target: UInt16) {
        self.tap = tap
        self.listener = listener
        self.target = target
    }

    /// Accepts one client at a time and pumps bytes both ways until either side closes.
    func run() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            guard let upstream = connectedSocket(port: target) else {
                close(client)
                continue
            }
            pump(client, upstream)
            close(client)
            close(upstream)
        }
    }

    private func pump(_ a: Int32, _ b: Int32) {
        var descriptors = [pollfd(fd: a, events: Int16(POLLIN), revents: 0), pollfd(fd: b, events: Int16(POLLIN), revents: 0)]
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            if poll(&descriptors, 2, 200) < 0 && errno != EINTR { return }
            for index in 0..<2 where descriptors[index].revents != 0 {
                let from = descriptors[index].fd
                let to = index == 0 ? b : a
                let count = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress!, $0.count) }
                if count <= 0 { return }
                tap.record(buffer[0..<count])
                var offset = 0
                while offset < count {
                    let written = buffer.withUnsafeBytes { write(to, $0.baseAddress! + offset, count - offset) }
                    if written <= 0 { return }
                    offset += written
                }
            }
        }
    }
}

private func connectedSocket(port: UInt16) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = port.bigEndian
    let ok = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
    if ok { return fd }
    close(fd)
    return nil
}
