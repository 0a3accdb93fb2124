import AgentCommon
import AgentDaemon
import AgentCLI
import AgentDemo
import CoAP
import Glibc
import Testing
import TestSupport
import Transport

/// Raises `signals` on a fresh POSIX thread with them unblocked, and joins it. (Swift Testing
/// runs tests on worker threads that block asynchronous signals, where `raise` would leave the
/// signal pending forever; a thread created from one inherits that mask, hence the unblock.)
/// The handler runs synchronously inside `raise` on that thread.
private func raiseUnblocked(_ signals: [Int32]) {
    let join = startThread {
        var set = sigset_t()
        sigemptyset(&set)
        for number in signals { sigaddset(&set, number) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for number in signals { raise(number) }
    }
    join()
}

@Suite(.serialized) struct SignalMonitorTests {
    @Test func raisedSignalsAreRecordedAndWakeTheLoop() throws {
        let monitor = try SignalMonitor(signals: [SIGUSR1, SIGUSR2])
        // The handlers stay installed for the rest of the process and write to the monitor's
        // descriptor: keep the monitor (and so the descriptor) alive for as long.
        _ = Unmanaged.passRetained(monitor)

        #expect(monitor.takeSignals() == [])
        #expect(monitor.wakeUp.drain() == false)

        raiseUnblocked([SIGUSR2, SIGUSR1, SIGUSR1])
        #expect(monitor.takeSignals() == [SIGUSR1, SIGUSR2])  // coalesced, lowest number first
        #expect(monitor.takeSignals() == [])
        #expect(monitor.wakeUp.drain() == true)
        #expect(monitor.wakeUp.drain() == false)

        // The same wake-up interrupts an EndpointRunner's wait.
        let runner = EndpointRunner(
            sockets: [try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))], wakeUp: monitor.wakeUp, seed: 1)
        raiseUnblocked([SIGUSR1])
        let start = MonotonicClock.now()
        #expect(try runner.runOnce(until: start + .seconds(5)) { _, _, _ in } == true)
        #expect(MonotonicClock.now() - start < .seconds(1))
        #expect(monitor.takeSignals() == [SIGUSR1])
    }
}
