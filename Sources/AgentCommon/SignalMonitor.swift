import Glibc
import Synchronization
import Transport

// Set by the C signal handler, read and cleared by the loop after it wakes. Lock-free atomics
// are async-signal-safe (no allocation, no locks in the handler).
private let pendingSignals = Atomic<UInt64>(0)
private let wakeDescriptor = Atomic<Int32>(-1)

private func recordSignal(_ number: Int32) {
    pendingSignals.bitwiseOr(1 << UInt64(number), ordering: .relaxed)
    let descriptor = wakeDescriptor.load(ordering: .relaxed)
    if descriptor >= 0 { WakeUpSignal.signal(descriptor: descriptor) }
}

/// Turns SIGTERM, SIGINT and SIGHUP into wake-ups of the poll loop, so the daemon reacts to them
/// between datagrams (de-register and exit, or reload) instead of inside a signal handler.
public final class SignalMonitor {
    public let wakeUp: WakeUpSignal

    public init(signals: [Int32] = [SIGTERM, SIGINT, SIGHUP]) throws(TransportError) {
        wakeUp = try WakeUpSignal()
        wakeDescriptor.store(wakeUp.signalDescriptor, ordering: .relaxed)
        for number in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { recordSignal($0) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(number, &action, nil)
        }
    }

    deinit {
        // The handlers stay installed; stop them writing to a descriptor that is about to close.
        wakeDescriptor.compareExchange(expected: wakeUp.signalDescriptor, desired: -1, ordering: .relaxed)
    }

    /// Signals received since the last call, lowest number first.
    public func takeSignals() -> [Int32] {
        let mask = pendingSignals.exchange(0, ordering: .relaxed)
        return (1..<64).compactMap { mask & (1 << UInt64($0)) != 0 ? Int32($0) : nil }
    }
}
