import Glibc
import Transport

// Written only by the C signal handler and read by the loop after it wakes. A plain global is
// what async-signal safety allows here (no allocation, no locks in the handler).
nonisolated(unsafe) private var pendingSignals: UInt64 = 0
nonisolated(unsafe) private var wakeDescriptor: Int32 = -1

private func recordSignal(_ number: Int32) {
    pendingSignals |= 1 << UInt64(number)
    if wakeDescriptor >= 0 { WakeUpSignal.signal(descriptor: wakeDescriptor) }
}

/// Turns SIGTERM, SIGINT and SIGHUP into wake-ups of the poll loop, so the daemon reacts to them
/// between datagrams (de-register and exit, or reload) instead of inside a signal handler.
public final class SignalMonitor {
    public let wakeUp: WakeUpSignal

    public init(signals: [Int32] = [SIGTERM, SIGINT, SIGHUP]) throws(TransportError) {
        wakeUp = try WakeUpSignal()
        wakeDescriptor = wakeUp.signalDescriptor
        for number in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { recordSignal($0) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(number, &action, nil)
        }
    }

    /// Signals received since the last call, lowest number first.
    public func takeSignals() -> [Int32] {
        var mask: UInt64 = 0
        // Block delivery while swapping so no signal is lost between the read and the reset.
        var all = sigset_t(), previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, &previous)
        mask = pendingSignals
        pendingSignals = 0
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        return (1..<64).compactMap { mask & (1 << UInt64($0)) != 0 ? Int32($0) : nil }
    }
}
