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
            do {
                let download = try CoAPDownload(uri: uri, peer: peer, sink: sink, resume: resume, options: options.coap,
                                                loop: loop)
                return drive(download, on: loop, from: start, until: start + options.timeout, progress: progress)
            } catch {
                return .failure(error)
            }
        case "http", "https":
            do {
                let download = try HTTPDownload(url: text, sink: sink, resume: resume, options: options.http, loop: loop)
                return drive(download, on: loop, from: start, until: start + options.timeout, progress: progress)
            } catch {
                return .failure(error)
            }
        default:
            return .failure(.unsupportedScheme(scheme))
        }
    }

    /// Starts `download` and runs `loop` until it finishes or `deadline` passes.
    private static func drive(
        _ download: any FirmwareDownload, on loop: EventLoop, from start: Instant, until deadline: Instant,
        progress: ((DownloadProgress) -> Void)?
    ) -> Result<DownloadProgress, FirmwareDownloadError> {
        download.onProgress = progress
        download.start(at: start)
        while download.result == nil {
            let now: Instant
            do { now = try loop.runOnce(until: deadline) } catch { return .failure(.connectionLost("\(error)")) }
            download.advance(to: now)
            if download.result == nil, now >= deadline {
                download.cancel()
                return .failure(.timeout)
            }
        }
        return download.result!
    }
}
