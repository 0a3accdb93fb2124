// Issue 10, defect 9: a configuration change whose save fails is kept and retried.
import AgentCommon
import AgentDaemon
import AgentCLI
import AgentDemo
import CoAP
import Glibc
import Files
import Testing

/// A disk that is full until told otherwise, recording what reached it.
private final class FakeDisk {
    var full = true
    var written: [Int] = []
    var attempts = 0

    func write(_ snapshot: Int) throws(FileError) {
        attempts += 1
        if full { throw FileError(operation: "write", path: "/state/configuration.json.tmp-1", errno: ENOSPC) }
        written.append(snapshot)
    }
}

@Suite struct PendingSaveTests {
    private func at(_ seconds: Int64) -> Instant { Instant(nanoseconds: seconds * 1_000_000_000) }

    @Test func aSuccessfulSaveLeavesNothingPending() {
        let disk = FakeDisk()
        disk.full = false
        var saver = PendingSave<Int>()
        guard case .saved(after: 0) = saver.save(1, at: at(0), with: disk.write) else {
            Issue.record("expected saved"); return
        }
        #expect(saver.pending == nil && saver.retryAt == nil)
        #expect(saver.retryIfDue(at: at(1000), with: disk.write) == nil)
        #expect(disk.written == [1])
    }

    @Test func aFailedSaveIsRetriedWithBackOffAndTheNewestSnapshotWins() {
        let disk = FakeDisk()
        var saver = PendingSave<Int>(initialDelay: .seconds(1), maximumDelay: .seconds(4))
        guard case .failed(let error, let retryAt, true) = saver.save(1, at: at(10), with: disk.write) else {
            Issue.record("expected the first failure"); return
        }
        #expect(error.errno == ENOSPC)
        #expect(retryAt == at(11))
        #expect(saver.pending == 1)
        // Not due yet: nothing happens.
        #expect(saver.retryIfDue(at: at(10), with: disk.write) == nil)
        #expect(disk.attempts == 1)
        // Due: tried again, still full; the delay doubles (2 s), then is capped (4 s).
        guard case .failed(_, let second, false) = saver.retryIfDue(at: at(11), with: disk.write) else {
            Issue.record("expected a second failure"); return
        }
        #expect(second == at(13))
        // A newer change replaces the pending one (its own save fails too).
        guard case .failed(_, let third, false) = saver.save(2, at: at(12), with: disk.write) else {
            Issue.record("expected a third failure"); return
        }
        #expect(third == at(16))
        guard case .failed(_, let fourth, false) = saver.retryIfDue(at: at(16), with: disk.write) else {
            Issue.record("expected a fourth failure"); return
        }
        #expect(fourth == at(20))  // capped at maximumDelay
        #expect(saver.pending == 2 && saver.failures == 4)
        // Space again: the newest snapshot is written, once, and the back-off resets.
        disk.full = false
        guard case .saved(after: 4) = saver.retryIfDue(at: at(20), with: disk.write) else {
            Issue.record("expected saved after four failures"); return
        }
        #expect(disk.written == [2])
        #expect(saver.pending == nil && saver.retryAt == nil && saver.failures == 0)
        disk.full = true
        guard case .failed(_, let again, true) = saver.save(3, at: at(30), with: disk.write) else {
            Issue.record("expected a new failure run"); return
        }
        #expect(again == at(31))
    }
}
