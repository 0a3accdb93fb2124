// Issue 15: the daemon's control socket — owner-only, stale sockets replaced, live ones kept,
// and a server on the event loop that no slow or hostile client can stall.
import AgentCommon
@testable import AgentDaemon
import CoAP
import Glibc
import Files
import Testing
import TestSupport
import Transport

/// A scratch directory removed without spawning `rm` (TemporaryDirectory does): a spawn's child
/// briefly holds the parent's descriptors, which the flock-based InstanceLockTests running in
/// parallel would see as a held lock.
private final class ScratchDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/lwm2m-control-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw TestFailure("mkdtemp failed")
        }
        path = String(cString: made)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    deinit { Self.remove(path) }

    private static func remove(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            chmod(path, 0o700)
            for name in (try? Directory.list(path)) ?? [] { remove("\(path)/\(name)") }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}

@Suite(.serialized) struct ControlServerTests {
    private let log = Logger(component: "test", level: .error)

    /// A blocking client connected to `path` (receive time-out 2 s).
    private func connectClient(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        var limit = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard ControlSocket.withAddress(path, { connect(fd, $0, $1) }) == 0 else {
            close(fd)
            throw TestFailure("connect \(path): errno \(errno)")
        }
        return fd
    }

    private func send(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Everything the server sent until it closed (or the 2 s receive time-out).
    private func receiveAll(_ fd: Int32) -> String {
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            answer += buffer[0..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    /// Runs the loop (and the server's deadlines) for `duration`.
    private func spin(_ loop: EventLoop, _ server: ControlServer, for duration: Duration = .milliseconds(50)) throws {
        let end = MonotonicClock.now() + duration
        while MonotonicClock.now() < end {
            let now = try loop.runOnce(until: end)
            server.advance(to: now)
        }
    }

    private func mode(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode : 0
    }

    @Test func theSocketIsOwnerOnlyInAnOwnerOnlyDirectoryAndRemovedOnClose() throws {
        let directory = try ScratchDirectory()
        let path = directory.file("run/control")
        let socket = try ControlSocket(path: path)
        #expect(mode(path) & S_IFMT == S_IFSOCK)
        #expect(mode(path) & 0o777 == 0o600)
        #expect(mode(directory.file("run")) & 0o777 == 0o700)
        #expect(access(path + ".new", F_OK) != 0)  // bound under a temporary name, renamed into place
        socket.remove()
        #expect(access(path, F_OK) != 0)
    }

    @Test func aStaleSocketIsReplacedALiveOneIsNotNorAnythingElse() throws {
        let directory = try ScratchDirectory()
        let path = directory.file("control")
        // A stale socket: bound, then its process "crashed" (closed without unlinking).
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #expect(ControlSocket.withAddress(path, { bind(stale, $0, $1) }) == 0)
        close(stale)
        let first = try ControlSocket(path: path)
        // A second daemon with the same path: the live socket stays.
        #expect(throws: ControlSocketError.inUse(path)) { try ControlSocket(path: path) }
        #expect(mode(path) & S_IFMT == S_IFSOCK)
        let client = try connectClient(path)  // still the first one's
        close(client)
        first.remove()
        // A regular file in the way is never removed.
        let fd = open(path, O_CREAT | O_WRONLY, 0o600)
        close(fd)
        #expect(throws: ControlSocketError.notASocket(path)) { try ControlSocket(path: path) }
        #expect(mode(path) & S_IFMT == S_IFREG)
    }

    @Test func unsafeDirectoriesAndLongPathsAreRefused() throws {
        let directory = try ScratchDirectory()
        chmod(directory.path, 0o777)
        #expect(throws: ControlSocketError.self) { try ControlSocket(path: directory.file("control")) }
        chmod(directory.path, 0o700)
        let long = directory.file(String(repeating: "x", count: 120))
        #expect(throws: ControlSocketError.pathTooLong(long, limit: ControlSocket.maximumPathLength - 4)) {
            try ControlSocket(path: long)
        }
    }

    @Test func oneRequestLineOneAnswerThenClose() throws {
        let directory = try ScratchDirectory()
        let loop = EventLoop()
        var requests: [String] = []
        let server = ControlServer(socket: try ControlSocket(path: directory.file("control")), loop: loop, log: log) {
            requests.append($0)
            return "answer to \($0)\n"
        }
        defer { server.close() }
        let client = try connectClient(directory.file("control"))
        defer { close(client) }
        send(client, "status json\r\n")
        try spin(loop, server)
        #expect(receiveAll(client) == "answer to status json\n")
        #expect(requests == ["status json"])
        #expect(server.answered == 1)
    }

    @Test func garbageOversizedAndSilentClientsDoNotStallTheLoop() throws {
        let directory = try ScratchDirectory()
        let loop = EventLoop()
        let server = ControlServer(socket: try ControlSocket(path: directory.file("control")), loop: loop, log: log,
                                   timeout: .milliseconds(300)) { "ok \($0.utf8.count)\n" }
        defer { server.close() }
        // A silent client, connected and never sending.
        let silent = try connectClient(directory.file("control"))
        defer { close(silent) }
        // Binary garbage far beyond the limit, no newline.
        let flood = try connectClient(directory.file("control"))
        defer { close(flood) }
        let garbage = [UInt8]((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 37) }).filter { $0 != 10 }
        _ = garbage.withUnsafeBytes { Glibc.send(flood, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        // Meanwhile an honest client is answered at once.
        let honest = try connectClient(directory.file("control"))
        defer { close(honest) }
        send(honest, "status\n")
        let started = MonotonicClock.now()
        try spin(loop, server, for: .milliseconds(60))
        #expect(receiveAll(honest) == "ok 6\n")
        #expect(MonotonicClock.now() - started < .milliseconds(250))
        #expect(receiveAll(flood) == "error: request too long\n")
        // The silent one is dropped at its deadline.
        try spin(loop, server, for: .milliseconds(400))
        #expect(receiveAll(silent) == "")
        #expect(server.dropped >= 2)
        #expect(server.nextDeadline == nil)
    }

    @Test func aClientThatGoesAwayBeforeTheAnswerCostsNothing() throws {
        let directory = try ScratchDirectory()
        let loop = EventLoop()
        let big = String(repeating: "x", count: 1 << 20) + "\n"  // more than the socket buffer takes
        let server = ControlServer(socket: try ControlSocket(path: directory.file("control")), loop: loop, log: log,
                                   timeout: .milliseconds(300)) { _ in big }
        defer { server.close() }
        let client = try connectClient(directory.file("control"))
        send(client, "status\n")
        try spin(loop, server)
        close(client)  // no SIGPIPE, no stall: the write fails, the client is dropped
        try spin(loop, server, for: .milliseconds(100))
        #expect(server.nextDeadline == nil)
        // And the next client is served.
        let next = try connectClient(directory.file("control"))
        defer { close(next) }
        send(next, "status\n")
        var received = 0
        let end = MonotonicClock.now() + .seconds(2)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while received < big.utf8.count && MonotonicClock.now() < end {
            try spin(loop, server, for: .milliseconds(5))
            let count = buffer.withUnsafeMutableBytes { recv(next, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 { received += count }
        }
        #expect(received == big.utf8.count)
    }

    @Test func moreThanTheMaximumOfClientsAreClosedAtOnce() throws {
        let directory = try ScratchDirectory()
        let loop = EventLoop()
        let server = ControlServer(socket: try ControlSocket(path: directory.file("control")), loop: loop, log: log,
                                   timeout: .milliseconds(500)) { _ in "ok\n" }
        defer { server.close() }
        var clients: [Int32] = []
        // One at a time, so the listen backlog never fills (a connect would then wait).
        for _ in 0..<(ControlServer.maximumClients + 2) {
            clients.append(try connectClient(directory.file("control")))
            try spin(loop, server, for: .milliseconds(5))
        }
        defer { for fd in clients { close(fd) } }
        // The extra ones see the connection closed without an answer, at once.
        #expect(receiveAll(clients[ControlServer.maximumClients]) == "")
        #expect(server.dropped == 2)
    }

    @Test func theControlSocketKey() throws {
        let environment = EndpointNameTemplate.Environment(machineID: { "0123abcd" }, hostname: { "gw" }, readFile: { _ in nil })
        func parse(_ agent: String) throws(ConfigFileError) -> AgentConfiguration {
            try AgentConfiguration(parsing: "[agent]\nendpoint-name = gw\nstate-dir = /var/lib/x\n\(agent)\n[server 1]\nuri = coap://h\n",
                                   environment: environment)
        }
        #expect(try parse("").controlSocket == "/var/lib/x/control")
        #expect(try parse("control-socket = /run/lwm2m-agent/control").controlSocket == "/run/lwm2m-agent/control")
        #expect(try parse("control-socket = none").controlSocket == nil)
        #expect(throws: ConfigFileError.self) { try parse("control-socket = run/control") }
        #expect(throws: ConfigFileError.self) { try parse("control-socket = /run/") }
    }
}
