import CCurl
import Time
import Transport

// libcurl's callbacks into an HTTPDownload: body chunks, header lines, sockets to watch, timer.
extension HTTPDownload {
    // MARK: C callbacks (the user pointer is `self`, unretained: the handles die with it)

    static let writeCallback: ccurl_write_callback = { data, size, count, user in
        let download = Unmanaged<HTTPDownload>.fromOpaque(user!).takeUnretainedValue()
        let length = size * count
        return download.receiveBody(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
    }

    static let headerCallback: ccurl_write_callback = { data, size, count, user in
        let download = Unmanaged<HTTPDownload>.fromOpaque(user!).takeUnretainedValue()
        let length = size * count
        let bytes = UnsafeRawBufferPointer(start: data, count: length)
        var line = String(decoding: bytes, as: UTF8.self)[...]
        while line.last?.isNewline == true { line = line.dropLast() }  // "\r\n" is one Character
        download.receiveHeader(line)
        return length
    }

    static let socketCallback: ccurl_socket_callback = { _, fd, what, user, _ in
        Unmanaged<HTTPDownload>.fromOpaque(user!).takeUnretainedValue().watchSocket(fd, what)
        return 0
    }

    static let timerCallback: ccurl_timer_callback = { _, milliseconds, user in
        let download = Unmanaged<HTTPDownload>.fromOpaque(user!).takeUnretainedValue()
        download.timerDeadline = milliseconds < 0 ? nil : MonotonicClock.now() + .milliseconds(milliseconds)
        return 0
    }

    /// One header line of any response (redirects included): a status line starts a new response.
    func receiveHeader(_ line: Substring) {
        if line.hasPrefix("HTTP/") {
            contentRangeStart = nil
            total = nil
            eTag = nil
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingSpaces
        switch name {
        case "etag":
            eTag = Array(value.utf8)
        case "content-length":
            if let length = Int64(value) { total = (contentRangeStart ?? 0) + length }
        case "content-range":
            // bytes FIRST-LAST/SIZE
            guard value.hasPrefix("bytes ") else { return }
            let range = value.dropFirst(6)
            let parts = range.split(separator: "/", maxSplits: 1)
            if let first = parts.first?.split(separator: "-").first { contentRangeStart = Int64(first) }
            if parts.count == 2, let size = Int64(parts[1]) { total = size }
        default:
            break
        }
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return text
    }
}
