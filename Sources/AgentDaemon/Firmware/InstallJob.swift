import Firmware
import Glibc
import Synchronization
import Transport

/// Runs a blocking installer call (`install`, `confirm`: minutes of rauc or swupdate) on a
/// thread of its own so the event loop keeps serving the servers meanwhile; the outcome comes
/// back through ``fileDescriptor`` (readable when done), collected on the loop's thread with
/// ``take()``. One job per object; the thread only runs the installer call.
/// `@unchecked Sendable`: `work` is called once, on the job's thread only; the outcome crosses
/// over under the mutex.
final class InstallJob: @unchecked Sendable {
    private let wakeUp: WakeUpSignal
    private let outcome = Mutex<InstallOutcome?>(nil)
    private let work: () -> InstallOutcome

    /// Readable once the installer call returned.
    var fileDescriptor: Int32 { wakeUp.fileDescriptor }

    /// Starts `work` on a new thread.
    init(_ work: @escaping () -> InstallOutcome) throws(TransportError) {
        wakeUp = try WakeUpSignal()
        self.work = work
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let status = pthread_create(&thread, nil, { raw in
            let job = Unmanaged<InstallJob>.fromOpaque(raw!).takeRetainedValue()
            let result = job.work()
            job.outcome.withLock { $0 = result }
            job.wakeUp.signal()
            return nil
        }, context)
        guard status == 0 else {
            Unmanaged<InstallJob>.fromOpaque(context).release()
            throw .socket(errno: status, operation: "pthread_create")
        }
        pthread_detach(thread)
    }

    /// The outcome once the call returned (nil before); drains ``fileDescriptor``.
    func take() -> InstallOutcome? {
        _ = wakeUp.drain()
        return outcome.withLock { $0 }
    }
}
