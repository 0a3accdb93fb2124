import Firmware
import LwM2M
import Time
import Transport

// A pull whose link failed (CoAP: a block retransmitted MAX_RETRANSMIT times without answer;
// HTTP: the connection cut or stalled) resumes on its own from the bytes stored, as a
// restart would, instead of ending with Update Result 4 at the first lost block.

/// Where the pull under way stands between its attempts.
struct PullRetry {
    /// The Package URI being pulled ("" before the first download).
    var uri = ""
    /// Bytes stored when the current attempt started.
    var startBytes: Int64 = 0
    /// Consecutive attempts that stored nothing new.
    var withoutProgress = 0
    /// The representation's validator (ETag) last reported, checked by the resumed request.
    var validator: [UInt8]?
    /// When the next attempt starts (nil: none waiting).
    var at: Instant?
    /// Set while the runner itself restarts the pull (the counters stay).
    var resuming = false
    /// Attempts in this pull so far (for the log).
    var attempts = 1
}

extension FirmwareRunner {
    /// Attempts in a row that may store nothing new before the pull ends with its error: a
    /// server that stays silent ends after 1 + 3 attempts (4 × MAX_TRANSMIT_WAIT for CoAP).
    static let maximumRetriesWithoutProgress = 3

    /// A download (`.download` from the object) starts: the counters start over, unless the
    /// runner is resuming its own pull.
    func noteDownloadStarted(_ uri: String, resumeFrom: Int64, etag: [UInt8]?) {
        if !pullRetry.resuming {
            pullRetry = PullRetry(uri: uri, validator: etag)
        }
        pullRetry.startBytes = resumeFrom
        pullRetry.at = nil
    }

    /// After a failed attempt: whether the pull goes on (a resumable failure, and progress
    /// made recently enough). Schedules the next attempt after a back-off of ACK_TIMEOUT × 2^n
    /// (n: attempts in a row without progress; at most 64 × ACK_TIMEOUT).
    func scheduleResume(after error: FirmwareDownloadError) -> Bool {
        switch error {
        case .connect, .connectionLost: break
        default: return false
        }
        guard object.state == .downloading, !pullRetry.uri.isEmpty, let sink else { return false }
        let stored = sink.size
        if stored > pullRetry.startBytes {
            pullRetry.withoutProgress = 0
        } else {
            pullRetry.withoutProgress += 1
        }
        guard pullRetry.withoutProgress <= Self.maximumRetriesWithoutProgress else { return false }
        let delay = ackTimeout * (1 << min(pullRetry.withoutProgress, 6))
        pullRetry.at = MonotonicClock.now() + delay
        pullRetry.attempts += 1
        log.notice("firmware: \(error) at byte \(stored); resuming in \(delay) (attempt \(pullRetry.attempts))")
        return true
    }

    /// Starts the scheduled attempt when it is due.
    func resumeIfDue(at now: Instant) {
        // (The failed attempt is released after its callbacks: wait for that.)
        guard let at = pullRetry.at, at <= now, download == nil, resolving == nil else { return }
        pullRetry.at = nil
        guard object.state == .downloading else { return }
        pullRetry.resuming = true
        defer { pullRetry.resuming = false }
        startDownload(pullRetry.uri, resumeFrom: objectStore.size, etag: pullRetry.validator)
    }
}
