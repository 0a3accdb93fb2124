import CoAP
import Glibc
import Testing
import TestSupport
import Transport

@Suite struct PollerTests {
    @Test func timeoutRoundsUpToWholeMilliseconds() {
        let now = Instant(nanoseconds: 1_000_000_000)
        #expect(Poller.timeoutMilliseconds(until: nil, now: now) == -1)
        #expect(Poller.timeoutMilliseconds(until: now, now: now) == 0)
        #expect(Poller.timeoutMilliseconds(until: now + .milliseconds(-5), now: now) == 0)
        #expect(Poller.timeoutMilliseconds(until: now + .nanoseconds(1), now: now) == 1)
        #expect(Poller.timeoutMilliseconds(until: now + .milliseconds(1), now: now) == 1)
        #expect(Poller.timeoutMilliseconds(until: now + .nanoseconds(1_000_001), now: now) == 2)
        #expect(Poller.timeoutMilliseconds(until: now + .seconds(90 * 86_400), now: now) == Int32.max)
        #expect(Poller.timeoutMilliseconds(until: Instant(nanoseconds: .max), now: Instant(nanoseconds: .min)) == Int32.max)
        #expect(Poller.timeoutMilliseconds(until: Instant(nanoseconds: .min), now: Instant(nanoseconds: .max)) == 0)
    }

    @Test func waitTimesOutNoEarlierThanDeadline() throws {
        let socket = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        var poller = Poller()
        poller.register(socket.fileDescriptor)
        for timeout in [Duration.milliseconds(30), .microseconds(2_500)] {
            let start = MonotonicClock.now()
            let ready = try poller.wait(until: start + timeout, now: start)
            let elapsed = MonotonicClock.now() - start
            #expect(ready.isEmpty)
            #expect(!ready.isReadable(socket.fileDescriptor))
            #expect(elapsed >= timeout)
        }
    }

    @Test func waitWakesWhenSocketIsReadable() throws {
        let server = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        let idle = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        let client = try UDPSocket(family: .ipv4)
        var poller = Poller()
        poller.register(idle.fileDescriptor)
        poller.register(server.fileDescriptor)
        poller.register(server.fileDescriptor)  // duplicate registration is ignored
        #expect(poller.registeredDescriptors == [idle.fileDescriptor, server.fileDescriptor])

        try client.send([1], to: server.localAddress)
        let start = MonotonicClock.now()
        let ready = try poller.wait(until: start + .seconds(10), now: start)
        #expect(ready.count == 1)
        #expect(ready.isReadable(server.fileDescriptor))
        #expect(!ready.isReadable(idle.fileDescriptor))
        #expect(!ready.isReadable(12345))
        #expect(Array(ready) == [server.fileDescriptor])
    }

    @Test func unregisteredDescriptorIsNotReported() throws {
        let server = try UDPSocket(bindingTo: .loopback(.ipv4, port: 0))
        let client = try UDPSocket(family: .ipv4)
        try client.send([1], to: server.localAddress)
        _ = try #require(try receiveDatagram(on: server))  // wait until delivery works
        try client.send([2], to: server.localAddress)

        var poller = Poller()
        poller.register(server.fileDescriptor)
        let now = MonotonicClock.now()
        #expect(try poller.wait(until: now + .seconds(10), now: now).isReadable(server.fileDescriptor))
        poller.unregister(server.fileDescriptor)
        #expect(poller.registeredDescriptors.isEmpty)
        let later = MonotonicClock.now()
        #expect(try poller.wait(until: later + .milliseconds(20), now: later).isEmpty)
    }
}

@Suite struct WakeUpSignalTests {
    @Test func signalWakesPollAndDrainResetsIt() throws {
        let wake = try WakeUpSignal()
        var poller = Poller()
        poller.register(wake.fileDescriptor)

        let now = MonotonicClock.now()
        #expect(try poller.wait(until: now, now: now).isEmpty)
        #expect(!wake.drain())

        wake.signal()
        wake.signal()  // coalesces with the first
        let ready = try poller.wait(until: now + .seconds(10), now: MonotonicClock.now())
        #expect(ready.isReadable(wake.fileDescriptor))
        #expect(wake.drain())
        #expect(!wake.drain())
        let after = MonotonicClock.now()
        #expect(try poller.wait(until: after, now: after).isEmpty)
    }

    @Test func signalFromAnotherThreadWakesBlockedPoll() throws {
        let wake = try WakeUpSignal()
        var poller = Poller()
        poller.register(wake.fileDescriptor)
        let join = startThread {
            usleep(20_000)
            wake.signal()
        }
        defer { join() }
        let start = MonotonicClock.now()
        let ready = try poller.wait(until: start + .seconds(30), now: start)
        #expect(ready.isReadable(wake.fileDescriptor))
        #expect(wake.drain())
    }

    @Test func staticSignalUsesSignalDescriptor() throws {
        let wake = try WakeUpSignal()
        WakeUpSignal.signal(descriptor: wake.signalDescriptor)
        var poller = Poller()
        poller.register(wake.fileDescriptor)
        let now = MonotonicClock.now()
        #expect(try poller.wait(until: now + .seconds(10), now: now).isReadable(wake.fileDescriptor))
    }
}
