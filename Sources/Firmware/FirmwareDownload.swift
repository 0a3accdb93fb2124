import Time

/// A pull running on an `EventLoop`, whatever its protocol (``CoAPDownload``, ``HTTPDownload``):
/// started once, advanced after every wake-up of the loop, finished with a result.
public protocol FirmwareDownload: AnyObject {
    /// The outcome, once finished.
    var result: Result<DownloadProgress, FirmwareDownloadError>? { get }
    /// Called after each block or chunk stored.
    var onProgress: ((DownloadProgress) -> Void)? { get set }
    /// Called once with the outcome.
    var onFinish: ((Result<DownloadProgress, FirmwareDownloadError>) -> Void)? { get set }
    /// Sends the first request.
    func start(at now: Instant)
    /// Runs the timers due at `now` (the loop's time).
    func advance(to now: Instant)
    /// Stops without a result callback for what was under way.
    func cancel()
}

extension CoAPDownload: FirmwareDownload {}
extension HTTPDownload: FirmwareDownload {}
