#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Whether the TPM's transport answers, checked without the TSS: what a context opened
/// `.onFirstUse` checks at once, so a daemon configured for a TPM that is not there still refuses
/// to start, without loading the TPM software stack for it.
///
/// - `device:<path>`: the node opens for reading and writing (and is closed again);
/// - `swtpm:host=…,port=…`: a TCP connection to the command port is accepted (and closed;
///   swtpm then waits for the next one), within 2 s;
/// - `tabrmd`: not checked (reached over D-Bus, through the TSS only: `TPMContext` opens it at once).
enum TransportProbe {
    /// How long a connection to swtpm may take.
    static let connectTimeoutMilliseconds: Int32 = 2000

    /// Throws `.noTPM` (with the same words as the TSS's transport errors) when the transport of
    /// `tcti` does not answer.
    static func check(_ tcti: TCTI) throws(TPMError) {
        switch tcti {
        case .device(let path):
            if let why = openDevice(path) { throw .noTPM("\(tcti): \(why)") }
        case .swtpm(let host, let port):
            if let why = connectTCP(host: host, port: port) { throw .noTPM("\(tcti): \(why)") }
        case .tabrmd:
            return
        }
    }

    /// Nil when `path` opens read-write; otherwise why not, with `detail` in parentheses (by
    /// default the system's words for the error). `ESAPI` words a failed TCTI open of a device
    /// the same way, with the TSS's error as `detail`.
    static func openDevice(_ path: String, detail: String? = nil) -> String? {
        let descriptor = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY)
        if descriptor >= 0 {
            close(descriptor)
            return nil
        }
        let error = errno
        let text = detail ?? String(cString: strerror(error))
        switch error {
        case ENOENT, ENOTDIR: return "\(path) does not exist (\(text))"
        case EACCES, EPERM, EROFS: return "\(path) is not readable and writable by this user (group tss?) (\(text))"
        default: return detail == nil ? "\(path): \(text)" : nil  // the TSS's own words then say it best
        }
    }

    /// Nil when some address of `host` accepts a TCP connection on `port`; otherwise why not.
    static func connectTCP(host: String, port: UInt16) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let list else {
            return "cannot resolve \(host) (\(String(cString: gai_strerror(status))))"
        }
        defer { freeaddrinfo(list) }
        var why = "no address for \(host)"
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let address = entry?.pointee {
            entry = address.ai_next
            let fd = socket(address.ai_family, address.ai_socktype | Int32(SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue),
                                address.ai_protocol)
            guard fd >= 0 else {
                why = "socket: \(String(cString: strerror(errno)))"
                continue
            }
            defer { close(fd) }
            var error: Int32 = 0
            if connect(fd, address.ai_addr, address.ai_addrlen) != 0 {
                error = errno
                if error == EINPROGRESS {
                    var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    let ready = poll(&descriptor, 1, connectTimeoutMilliseconds)
                    if ready == 1 {
                        var length = socklen_t(MemoryLayout<Int32>.size)
                        error = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 ? error : errno
                    } else {
                        error = ready == 0 ? ETIMEDOUT : errno
                    }
                }
            }
            if error == 0 { return nil }
            why = "nothing answers at \(host):\(port) (\(String(cString: strerror(error))))"
        }
        return why
    }
}
