import CCurl
import Glibc
import Time
import Transport

/// Settings of an HTTP(S) download.
public struct HTTPDownloadOptions: Sendable {
    /// A PEM file of trusted CAs; `nil` uses the system trust store (Debian: /etc/ssl/certs).
    public var caFile: String?
    /// Longest time to establish the connection (TCP and TLS).
    public var connectTimeout: Duration = .seconds(30)
    /// A transfer that moves less than 1 byte/s for this long is a lost connection.
    public var stallTimeout: Duration = .seconds(60)
    /// Redirects followed (http/https only).
    public var maximumRedirects = 5
    public var userAgent = "lwm2m-agent"

    public init() {}
}

/// A firmware download over HTTP or HTTPS with libcurl's multi interface, its sockets and timer
/// on the agent's ``EventLoop`` (no thread, nothing blocks), streamed to a ``DownloadSink``.
///
/// Resume: with a ``ResumePoint`` the request carries `Range: bytes=N-` (and `If-Range` with
/// the saved ETag): 206 with a `Content-Range` starting at N continues; 200 means the server
/// sends the whole (possibly new) representation, so the sink is emptied and filled from 0.
/// TLS peers are verified (certificate chain and host name) against the system trust store or
/// ``HTTPDownloadOptions/caFile``.
///
/// Driving as ``CoAPDownload``: ``start(at:)``, then ``advance(to:)`` after every
/// `loop.runOnce`; ``onFinish`` is called once.
public final class HTTPDownload {
    public let url: String
    public private(set) var result: Result<DownloadProgress, FirmwareDownloadError>?
    public var onProgress: ((DownloadProgress) -> Void)?
    public var onFinish: ((Result<DownloadProgress, FirmwareDownloadError>) -> Void)?
    /// The HTTP status of the final response (200, 206 …), once headers arrived.
    public private(set) var status = 0
    /// Whether the server sent the whole body again instead of the range asked for.
    public private(set) var restartedFromZero = false

    private let sink: DownloadSink
    private let loop: EventLoop
    private let multi: UnsafeMutableRawPointer
    private let easy: UnsafeMutableRawPointer
    private var headers: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var requestedOffset: Int64
    var total: Int64?
    var eTag: [UInt8]?
    /// The ETag saved with the stored bytes (sent as If-Range).
    private var savedValidator: [UInt8]?
    var contentRangeStart: Int64?
    private var bodyStarted = false
    private var sinkFailure: FirmwareDownloadError?
    private var sockets: [Int32: EventLoop.SourceID] = [:]
    var timerDeadline: Instant?
    private var deadlineSource: EventLoop.SourceID?
    private var attached = false

    private let api: UnsafeMutablePointer<ccurl_api>

    public var progress: DownloadProgress { DownloadProgress(received: sink.size, total: total, validator: eTag) }

    /// Prepares the download of `url` into `sink`, from byte 0 (the sink is emptied) or resumed
    /// at `resume.offset` (the sink is cut back to it).
    public init(
        url: String, sink: DownloadSink, resume: ResumePoint? = nil, options: HTTPDownloadOptions = HTTPDownloadOptions(),
        loop: EventLoop
    ) throws(FirmwareDownloadError) {
        let lowered = url.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
            throw .unsupportedScheme(String(url.prefix { $0 != ":" }))
        }
        let api: UnsafeMutablePointer<ccurl_api>
        switch CurlLibrary.shared {
        case .success(let library): api = library.api
        case .failure(let error): throw error
        }
        self.api = api
        self.url = url
        self.sink = sink
        self.loop = loop
        let offset = resume.map { max(0, min($0.offset, sink.size)) } ?? 0
        do throws(DownloadSinkError) {
            if offset > 0 { try sink.truncate(to: offset) } else { try sink.reset() }
        } catch {
            throw .sink(error)
        }
        requestedOffset = offset
        savedValidator = offset > 0 ? resume?.validator : nil
        eTag = savedValidator
        guard let multi = ccurl_multi_init(api) else { throw .tls("curl_multi_init failed") }
        guard let easy = ccurl_easy_init(api) else {
            ccurl_multi_cleanup(api, multi)
            throw .tls("curl_easy_init failed")
        }
        self.multi = multi
        self.easy = easy
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

        var refused: [String] = []
        func set(_ code: CURLcode) { if code != CURLE_OK { refused.append("\(code.rawValue)") } }
        set(ccurl_easy_setopt_string(api, easy, CURLOPT_URL, url))
        // http/https only, redirects included (the _STR options since libcurl 7.85; the bit
        // masks before, e.g. Debian bullseye's 7.74).
        if ccurl_easy_setopt_string(api, easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK {
            set(ccurl_easy_setopt_long(api, easy, CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTP | CURLPROTO_HTTPS)))
        }
        if ccurl_easy_setopt_string(api, easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK {
            set(ccurl_easy_setopt_long(api, easy, CURLOPT_REDIR_PROTOCOLS, Int(CURLPROTO_HTTP | CURLPROTO_HTTPS)))
        }
        set(ccurl_easy_setopt_long(api, easy, CURLOPT_FOLLOWLOCATION, 1))
        set(ccurl_easy_setopt_long(api, easy, CURLOPT_MAXREDIRS, options.maximumRedirects))
        set(ccurl_easy_setopt_long(api, easy, CURLOPT_FAILONERROR, 1))
        set(ccurl_easy_setopt_long(api, easy, CURLOPT_NOSIGNAL, 1))
        set(ccurl_easy_setopt_long(api, easy, CURLOPT_SSL_VERIFYPEER, 1))
        set(ccurl_easy_setopt_long(api, easy, CURLOPT_SSL_VERIFYHOST, 2))
        if let caFile = options.caFile { set(ccurl_easy_setopt_string(api, easy, CURLOPT_CAINFO, caFile)) }
        set(ccurl_easy_setopt_long(api, easy, CURLOPT_CONNECTTIMEOUT_MS, Int(clamping: options.connectTimeout.millisecondsClamped)))
        set(ccurl_easy_setopt_long(api, easy, CURLOPT_LOW_SPEED_LIMIT, 1))
        set(ccurl_easy_setopt_long(api, easy, CURLOPT_LOW_SPEED_TIME, max(1, Int(clamping: options.stallTimeout.millisecondsClamped / 1000))))
        set(ccurl_easy_setopt_string(api, easy, CURLOPT_USERAGENT, options.userAgent))
        set(ccurl_easy_setopt_long(api, easy, CURLOPT_BUFFERSIZE, 64 * 1024))
        set(ccurl_easy_setopt_pointer(api, easy, CURLOPT_ERRORBUFFER, errorBuffer))
        if offset > 0 {
            set(ccurl_easy_setopt_string(api, easy, CURLOPT_RANGE, "\(offset)-"))
            if let validator = resume?.validator, !validator.isEmpty {
                // An ETag is ASCII without CR/LF (RFC 9110 §8.8.3); anything else is not sent.
                let text = String(decoding: validator, as: UTF8.self)
                if validator.allSatisfy({ $0 >= 0x21 && $0 < 0x7F }) {
                    headers = ccurl_slist_append(api, nil, "If-Range: " + text)
                }
                set(ccurl_easy_setopt_pointer(api, easy, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headers)))
            }
        }
        let me = Unmanaged.passUnretained(self).toOpaque()
        set(ccurl_easy_setopt_write_function(api, easy, CURLOPT_WRITEFUNCTION, Self.writeCallback))
        set(ccurl_easy_setopt_pointer(api, easy, CURLOPT_WRITEDATA, me))
        set(ccurl_easy_setopt_write_function(api, easy, CURLOPT_HEADERFUNCTION, Self.headerCallback))
        set(ccurl_easy_setopt_pointer(api, easy, CURLOPT_HEADERDATA, me))
        var multiOK = ccurl_multi_setopt_socket_function(api, multi, Self.socketCallback) == CURLM_OK
        multiOK = multiOK && ccurl_multi_setopt_pointer(api, multi, CURLMOPT_SOCKETDATA, me) == CURLM_OK
        multiOK = multiOK && ccurl_multi_setopt_timer_function(api, multi, Self.timerCallback) == CURLM_OK
        multiOK = multiOK && ccurl_multi_setopt_pointer(api, multi, CURLMOPT_TIMERDATA, me) == CURLM_OK
        guard refused.isEmpty, multiOK else {
            throw .unsupportedScheme("http (this libcurl refused options: CURLcode \(refused.joined(separator: ", ")))")
        }
    }

    deinit {
        stop()
        ccurl_easy_cleanup(api, easy)
        ccurl_multi_cleanup(api, multi)
        ccurl_slist_free_all(api, headers)
        errorBuffer.deallocate()
    }

    /// Starts the transfer (name resolution, connection, request).
    public func start(at now: Instant) {
        deadlineSource = loop.addDeadline { [unowned self] in timerDeadline }
        guard ccurl_multi_add_handle(api, multi, easy) == CURLM_OK else {
            return finish(.failure(.connect("curl_multi_add_handle failed")))
        }
        attached = true
        socketAction(Int32(-1), 0)  // CURL_SOCKET_TIMEOUT: let libcurl start
    }

    /// Runs libcurl's timer when it is due at `now`.
    public func advance(to now: Instant) {
        guard result == nil, let deadline = timerDeadline, deadline <= now else { return }
        timerDeadline = nil
        socketAction(Int32(-1), 0)
    }

    /// Stops the transfer; the bytes stored stay for a resume.
    public func cancel() {
        if result == nil { finish(.failure(.cancelled)) }
    }

    // MARK: - libcurl plumbing

    private func socketAction(_ fd: Int32, _ flags: Int32) {
        var running: Int32 = 0
        let code = ccurl_multi_socket_action(api, multi, fd, flags, &running)
        if code != CURLM_OK, result == nil {
            return finish(.failure(.connectionLost(String(cString: ccurl_multi_strerror(api, code)))))
        }
        collectFinished()
    }

    private func collectFinished() {
        var queued: Int32 = 0
        while result == nil, let message = ccurl_multi_info_read(api, multi, &queued) {
            guard message.pointee.msg == CURLMSG_DONE else { continue }
            let code = ccurl_message_result(message)
            var responseCode = 0
            ccurl_easy_getinfo_long(api, easy, CURLINFO_RESPONSE_CODE, &responseCode)
            if code == CURLE_HTTP_RETURNED_ERROR, responseCode == 416, requestedOffset > 0, sinkFailure == nil {
                // 416: the range starts past the end (the image was stored whole, or replaced by
                // a shorter one): ask for all of it again.
                return restartFromZero()
            }
            finish(outcome(of: code))
        }
    }

    private func outcome(of code: CURLcode) -> Result<DownloadProgress, FirmwareDownloadError> {
        if let sinkFailure { return .failure(sinkFailure) }
        guard code == CURLE_OK else {
            let detail = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: ccurl_easy_strerror(api, code))
            var responseCode = 0
            ccurl_easy_getinfo_long(api, easy, CURLINFO_RESPONSE_CODE, &responseCode)
            return .failure(Self.error(for: code, responseCode: responseCode, detail: detail, bodyStarted: bodyStarted))
        }
        if !bodyStarted {
            // An empty body: only 200 (an empty image) or 206 at the end is acceptable.
            if let failure = beginBody() { return .failure(failure) }
        }
        do throws(DownloadSinkError) { try sink.finish() } catch { return .failure(.sink(error)) }
        if let total, sink.size != total {
            return .failure(.connectionLost("received \(sink.size) of \(total) bytes"))
        }
        return .success(progress)
    }

    /// Runs the transfer again without a range, into an emptied sink.
    private func restartFromZero() {
        ccurl_multi_remove_handle(api, multi, easy)
        attached = false
        requestedOffset = 0
        savedValidator = nil
        eTag = nil
        bodyStarted = false
        restartedFromZero = true
        errorBuffer.pointee = 0
        do throws(DownloadSinkError) { try sink.reset() } catch { return finish(.failure(.sink(error))) }
        ccurl_easy_setopt_pointer(api, easy, CURLOPT_RANGE, nil)
        ccurl_easy_setopt_pointer(api, easy, CURLOPT_HTTPHEADER, nil)
        guard ccurl_multi_add_handle(api, multi, easy) == CURLM_OK else {
            return finish(.failure(.connect("curl_multi_add_handle failed")))
        }
        attached = true
        socketAction(Int32(-1), 0)
    }

    /// The first body bytes (or the end of an empty body): decides, from the final response's
    /// status and Content-Range, whether the bytes continue the stored ones or replace them.
    private func beginBody() -> FirmwareDownloadError? {
        bodyStarted = true
        var responseCode = 0
        ccurl_easy_getinfo_long(api, easy, CURLINFO_RESPONSE_CODE, &responseCode)
        status = responseCode
        switch responseCode {
        case 206 where requestedOffset > 0:
            guard contentRangeStart == requestedOffset else {
                return .protocolViolation("Content-Range starts at \(contentRangeStart.map(String.init) ?? "nothing"), asked for \(requestedOffset)")
            }
            if eTag == nil { eTag = savedValidator }  // the same representation (If-Range held)
        case 200:
            if requestedOffset > 0 {
                restartedFromZero = true
                do throws(DownloadSinkError) { try sink.reset() } catch { return .sink(error) }
            }
        default:
            return .status("HTTP \(responseCode) (expected 200\(requestedOffset > 0 ? " or 206" : ""))")
        }
        // The size announced (Content-Length, Content-Range) is checked before any byte is stored.
        if let total {
            do throws(DownloadSinkError) { try sink.expectTotal(total) } catch { return .sink(error) }
        }
        return nil
    }

    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if !bodyStarted, let failure = beginBody() {
            sinkFailure = failure
            return false
        }
        do throws(DownloadSinkError) {
            try sink.append(bytes)
        } catch {
            sinkFailure = .sink(error)
            return false
        }
        onProgress?(progress)
        return true
    }

    func watchSocket(_ fd: Int32, _ what: Int32) {
        if what == Int32(CURL_POLL_REMOVE) {
            if let source = sockets.removeValue(forKey: fd) { loop.remove(source) }
            return
        }
        var events: Int16 = 0
        if what & Int32(CURL_POLL_IN) != 0 { events |= Int16(POLLIN) }
        if what & Int32(CURL_POLL_OUT) != 0 { events |= Int16(POLLOUT) }
        if let source = sockets[fd] {
            loop.setEvents(source, events)
        } else {
            sockets[fd] = loop.watch(fd, events: events) { [unowned self] _, revents in
                var flags: Int32 = 0
                if revents & Int16(POLLIN | POLLHUP) != 0 { flags |= Int32(CURL_CSELECT_IN) }
                if revents & Int16(POLLOUT) != 0 { flags |= Int32(CURL_CSELECT_OUT) }
                if revents & Int16(POLLERR | POLLNVAL) != 0 { flags |= Int32(CURL_CSELECT_ERR) }
                socketAction(fd, flags)
            }
        }
    }

    private func finish(_ outcome: Result<DownloadProgress, FirmwareDownloadError>) {
        guard result == nil else { return }
        result = outcome
        stop()
        onFinish?(outcome)
    }

    private func stop() {
        if attached {
            attached = false
            ccurl_multi_remove_handle(api, multi, easy)  // closes the connection (socket callbacks REMOVE)
        }
        for source in sockets.values { loop.remove(source) }
        sockets = [:]
        if let deadlineSource { loop.remove(deadlineSource) }
        deadlineSource = nil
        timerDeadline = nil
    }
}
