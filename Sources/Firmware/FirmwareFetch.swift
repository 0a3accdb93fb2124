import CoAP
import Time
import Transport

/// Runs one download to completion on a loop of its own: what `lwm2m-agent firmware fetch`
/// does. The daemon instead creates ``CoAPDownload`` / ``HTTPDownload`` on its own loop.
public enum FirmwareFetch {
    /// Everything the fetch needs besides the URI and the sink.
    public struct Options {
        public var coap = CoAPDownloadOptions()
        public var http = HTTPDownloadOptions()
        /// Bounds the whole download.
        public var timeout: Duration = .seconds(3600)

        public init() {}
    }

    /// Downloads `text` (`coap`, `coaps`, `http`, `https`) into `sink`, from byte 0 or resumed
    /// at `resume`; `progress` is called after each block or chunk stored.
    public static func run(
        _ text: String, into sink: DownloadSink, resume: ResumePoint? = nil, options: Options = Options(),
        progress: ((DownloadProgress) -> Void)? = nil
    ) -> Result<DownloadProgress, FirmwareDownloadError> {
        let loop = EventLoop()
        let start = MonotonicClock.now()
        let scheme = text.prefix { $0 != ":" }.lowercased()
        switch scheme {
        case "coap", "coaps":
            let uri: CoAPURI
            do { uri = try CoAPURI(text) } catch { return .failure(.invalidURI("\(error)")) }
            let peer: SocketAddress
            do { peer = try Resolver.resolve(host: uri.host, port: uri.port)[0] } catch {
                return .failure(.nameResolution("\(uri.host): \(error)"))
            }
            let download: CoAPDownload
            do {
                download = try CoAPDownload(uri: uri, peer: peer, sink: sink, resume: resume, options: options.coap, loop: loop)
            } catch {
                return .failure(error)
            }
            download.onProgress = progress
            download.start(at: start)
            return drive(loop, until: start + options.timeout, result: { download.result },
                         advance: download.advance(to:), cancel: download.cancel)
        case "http", "https":
            let download: HTTPDownload
            do {
                download = try HTTPDownload(url: text, sink: sink, resume: resume, options: options.http, loop: loop)
            } catch {
                return .failure(error)
            }
            download.onProgress = progress
            download.start(at: start)
            return drive(loop, until: start + options.timeout, result: { download.result },
                         advance: download.advance(to:), cancel: download.cancel)
        default:
            return .failure(.unsupportedScheme(scheme))
        }
    }

    private static func drive(
        _ loop: EventLoop, until deadline: Instant, result: () -> Result<DownloadProgress, FirmwareDownloadError>?,
        advance: (Instant) -> Void, cancel: () -> Void
    ) -> Result<DownloadProgress, FirmwareDownloadError> {
        while result() == nil {
            let now: Instant
            do { now = try loop.runOnce(until: deadline) } catch { return .failure(.connectionLost("\(error)")) }
            advance(now)
            if result() == nil, now >= deadline {
                cancel()
                return .failure(.timeout)
            }
        }
        return result()!
    }
}
