import Files
import Glibc

/// Why the control socket could not be set up.
public enum ControlSocketError: Error, Equatable, CustomStringConvertible {
    /// The path does not fit a UNIX socket address (107 bytes on Linux).
    case pathTooLong(String, limit: Int)
    /// Something that is not a socket is in the way (never removed).
    case notASocket(String)
    /// Another process answers on the socket (a second daemon with the same control path).
    case inUse(String)
    /// The directory is writable by others: anyone could replace the socket.
    case unsafeDirectory(String, mode: mode_t)
    case system(operation: String, path: String, errno: Int32)

    public var description: String {
        switch self {
        case .pathTooLong(let path, let limit):
            "control socket \(path): path longer than \(limit) bytes (set control-socket to a shorter path)"
        case .notASocket(let path): "control socket \(path): something that is not a socket is in the way (not removed)"
        case .inUse(let path): "control socket \(path): another process answers on it"
        case .unsafeDirectory(let path, let mode):
            "control socket directory \(path) is writable by others (mode \(String(mode & 0o7777, radix: 8))): not serving status there"
        case .system(let operation, let path, let code):
            "control socket \(path): \(operation): \(String(cString: strerror(code)))"
        }
    }
}

/// The daemon's listening UNIX stream socket for `lwm2m-agent status`: owner-only (0600) in a
/// directory only the owner may write to (made 0700 when missing). It is bound under a
/// temporary name, restricted, then renamed into place, so the path never exists with wider
/// permissions and a stale socket left by a crash is replaced atomically; a socket something
/// still answers on is never taken over. ``remove()`` unlinks the path if it is still this one.
public final class ControlSocket {
    /// sun_path's capacity minus the terminating NUL.
    public static let maximumPathLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1
    public let path: String
    /// The listening descriptor (non-blocking, close-on-exec); -1 once closed.
    public private(set) var fileDescriptor: Int32
    private var inode: ino_t

    /// Binds and listens at `path`.
    public init(path: String, backlog: Int32 = 8) throws(ControlSocketError) {
        self.path = path
        let temporary = path + ".new"
        guard temporary.utf8.count <= Self.maximumPathLength else {
            throw .pathTooLong(path, limit: Self.maximumPathLength - 4)
        }
        let directory = Self.directory(of: path)
        try Self.prepareDirectory(directory)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(operation: "socket", path: path, errno: errno) }
        do throws(ControlSocketError) {
            unlink(temporary)  // a leftover of a start that died between bind and rename
            guard Self.withAddress(temporary, { bind(fd, $0, $1) }) == 0 else {
                throw .system(operation: "bind", path: temporary, errno: errno)
            }
            guard chmod(temporary, 0o600) == 0 else {
                let code = errno
                unlink(temporary)
                throw .system(operation: "chmod", path: temporary, errno: code)
            }
            guard listen(fd, backlog) == 0 else {
                let code = errno
                unlink(temporary)
                throw .system(operation: "listen", path: path, errno: code)
            }
            do throws(ControlSocketError) {
                try Self.checkExisting(path)
            } catch {
                unlink(temporary)
                throw error
            }
            guard rename(temporary, path) == 0 else {
                let code = errno
                unlink(temporary)
                throw .system(operation: "rename", path: path, errno: code)
            }
            var info = stat()
            guard lstat(path, &info) == 0 else { throw .system(operation: "stat", path: path, errno: errno) }
            inode = info.st_ino
        } catch {
            close(fd)
            throw error
        }
        fileDescriptor = fd
    }

    deinit { remove() }

    /// Closes the socket and removes its path, unless another socket has replaced it meanwhile.
    public func remove() {
        guard fileDescriptor >= 0 else { return }
        close(fileDescriptor)
        fileDescriptor = -1
        var info = stat()
        if lstat(path, &info) == 0, info.st_ino == inode, info.st_mode & S_IFMT == S_IFSOCK { unlink(path) }
    }

    /// Accepts one waiting connection (made non-blocking and close-on-exec); nil when none is
    /// waiting. (accept4 is not visible to Swift without _GNU_SOURCE; the daemon's threads do not
    /// exec between the accept and the fcntl, and its installers are spawned closing descriptors.)
    func accept() throws(ControlSocketError) -> Int32? {
        while true {
            let fd = Glibc.accept(fileDescriptor, nil, nil)
            if fd >= 0 {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                return fd
            }
            switch errno {
            case EINTR, ECONNABORTED: continue
            case EAGAIN, EWOULDBLOCK: return nil
            case let code: throw .system(operation: "accept", path: path, errno: code)
            }
        }
    }

    /// struct ucred (not visible to Swift without _GNU_SOURCE).
    private struct PeerCredentials {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// The user ID of the process at the other end of `fd` (SO_PEERCRED).
    static func peerUID(_ fd: Int32) -> uid_t? {
        var credentials = PeerCredentials()
        var length = socklen_t(MemoryLayout<PeerCredentials>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0,
              length == socklen_t(MemoryLayout<PeerCredentials>.size) else { return nil }
        return credentials.uid
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }

    /// Creates the directory (0700) when missing; refuses one others may write to (sticky
    /// directories such as /tmp included: the socket's name could be taken first).
    static func prepareDirectory(_ directory: String) throws(ControlSocketError) {
        do {
            try Directory.create(directory, mode: 0o700)
        } catch {
            throw .system(operation: "mkdir", path: directory, errno: error.errno)
        }
        var info = stat()
        guard stat(directory, &info) == 0 else { throw .system(operation: "stat", path: directory, errno: errno) }
        // Group or others may write there: they could replace the socket.
        if info.st_mode & 0o022 != 0 { throw .unsafeDirectory(directory, mode: info.st_mode) }
    }

    /// Whatever is at `path` may be replaced: nothing, or a socket nobody answers on (stale).
    static func checkExisting(_ path: String) throws(ControlSocketError) {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw .system(operation: "stat", path: path, errno: errno)
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else { throw .notASocket(path) }
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue), 0)
        guard probe >= 0 else { throw .system(operation: "socket", path: path, errno: errno) }
        defer { close(probe) }
        let connected = withAddress(path) { connect(probe, $0, $1) } == 0
        // EAGAIN: a live listener with a full backlog; anything but "refused" counts as alive.
        if connected || (errno != ECONNREFUSED && errno != ENOENT) { throw .inUse(path) }
    }

    /// Calls `body` with a sockaddr_un for `path` (which must fit).
    static func withAddress(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count <= maximumPathLength else { errno = ENAMETOOLONG; return -1 }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
            raw[bytes.count] = 0
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}
