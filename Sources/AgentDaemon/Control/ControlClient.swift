import Glibc

/// Why a control request got no answer.
public enum ControlClientError: Error, Equatable, CustomStringConvertible {
    /// No socket at the path, or nothing listens on it: no daemon runs with this configuration.
    case notRunning(path: String)
    /// The socket is there but this user may not use it.
    case permissionDenied(path: String)
    /// The daemon did not answer within the time-out.
    case timedOut(path: String)
    case system(operation: String, path: String, errno: Int32)
    /// The answer was larger than the client takes.
    case answerTooLarge(limit: Int)

    public var description: String {
        switch self {
        case .notRunning(let path): "no lwm2m-agentd answers on \(path): the daemon is not running"
        case .permissionDenied(let path): "\(path): permission denied (run as the daemon's user or root)"
        case .timedOut(let path): "lwm2m-agentd did not answer on \(path) in time"
        case .system(let operation, let path, let code): "\(path): \(operation): \(String(cString: strerror(code)))"
        case .answerTooLarge(let limit): "the answer is larger than \(limit) bytes"
        }
    }
}

/// The client side of the control socket (`lwm2m-agent status`): one request line, the whole
/// answer, bounded in time and size.
public enum ControlClient {
    /// The largest answer read.
    public static let answerLimit = 1 << 20

    /// Sends `request` (a line without its newline) to the daemon at `path` and returns its answer.
    public static func request(_ request: String, path: String, timeout: Duration = .seconds(5)) throws(ControlClientError) -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(operation: "socket", path: path, errno: errno) }
        defer { close(fd) }
        let (seconds, attoseconds) = timeout.components
        var limit = timeval(tv_sec: Int(clamping: seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))  // 32-bit time_t: clamped
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard path.utf8.count <= ControlSocket.maximumPathLength else {
            throw .system(operation: "connect", path: path, errno: ENAMETOOLONG)
        }
        if ControlSocket.withAddress(path, { connect(fd, $0, $1) }) != 0 {
            switch errno {
            case ENOENT, ECONNREFUSED: throw .notRunning(path: path)
            case EACCES, EPERM: throw .permissionDenied(path: path)
            case EAGAIN, EINPROGRESS: throw .timedOut(path: path)
            case let code: throw .system(operation: "connect", path: path, errno: code)
            }
        }
        let line = Array((request + "\n").utf8)
        var sent = 0
        while sent < line.count {
            let count = line.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw .timedOut(path: path) }
                throw .system(operation: "send", path: path, errno: errno)
            }
            sent += count
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw .timedOut(path: path) }
                throw .system(operation: "recv", path: path, errno: errno)
            }
            if count == 0 { break }
            answer += buffer[0..<count]
            if answer.count > answerLimit { throw .answerTooLarge(limit: answerLimit) }
        }
        return String(decoding: answer, as: UTF8.self)
    }
}
