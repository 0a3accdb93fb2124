import AgentCommon
import CoAP
import Files

/// Keeps a configuration change that could not be saved (full filesystem, I/O error) and says
/// when to try again, so a change the agent acknowledged is never dropped: the newest snapshot
/// waiting to be written replaces older ones, and retries back off from `initialDelay` to
/// `maximumDelay` until a write succeeds.
public struct PendingSave<Snapshot> {
    /// What one attempt did.
    public enum Outcome {
        /// Written; `after` failed attempts came before (0: first time).
        case saved(after: Int)
        /// Not written; tried again at `retryAt`. `firstFailure` marks the start of a failure run
        /// (log it as an error once, not on every retry).
        case failed(FileError, retryAt: Instant, firstFailure: Bool)
    }

    /// The first retry comes this long after the first failure; the delay doubles after each.
    public let initialDelay: Duration
    /// The longest delay between retries.
    public let maximumDelay: Duration
    /// The snapshot waiting to be written, if a save failed.
    public private(set) var pending: Snapshot?
    /// When to try again (nil when nothing is pending).
    public private(set) var retryAt: Instant?
    /// Failed attempts since the last successful save.
    public private(set) var failures = 0
    private var delay: Duration

    public init(initialDelay: Duration = .seconds(1), maximumDelay: Duration = .seconds(60)) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        delay = initialDelay
    }

    /// Writes `snapshot` (the newest state) with `write`; on failure keeps it for `retry`.
    public mutating func save(_ snapshot: Snapshot, at now: Instant,
                              with write: (Snapshot) throws(FileError) -> Void) -> Outcome {
        do {
            try write(snapshot)
        } catch {
            let first = failures == 0
            failures += 1
            pending = snapshot
            let at = now + delay
            retryAt = at
            delay = min(delay * 2, maximumDelay)
            return .failed(error, retryAt: at, firstFailure: first)
        }
        let before = failures
        pending = nil
        retryAt = nil
        failures = 0
        delay = initialDelay
        return .saved(after: before)
    }

    /// Writes the pending snapshot when its retry is due; nil when nothing is due.
    public mutating func retryIfDue(at now: Instant, with write: (Snapshot) throws(FileError) -> Void) -> Outcome? {
        guard let pending, let retryAt, retryAt <= now else { return nil }
        return save(pending, at: now, with: write)
    }
}
