import DTLS
import DynamicLoading
import Testing
import Time

/// The rules both DTLS backends share (``DTLSSessionCore``): queueing during the handshake, the
/// flush on connect, and the final states.
@Suite("DTLS session core: queues and state rules shared by mbedTLS and GnuTLS")
struct DTLSSessionCoreTests {
    @Test("while handshaking, plaintexts are queued up to maxQueued; connect hands them back in order and reports .connected")
    func queueThenConnect() throws {
        var core = DTLSSessionCore(maxQueued: 2, now: .zero)
        #expect(core.state == .handshaking && core.isLive)
        let first = try core.admit([1]), second = try core.admit([2])
        #expect(!first && !second)  // queued, not written
        #expect(throws: DTLSError.notConnected) { _ = try core.admit([3]) }
        let pending = core.connect(at: Instant.zero + .seconds(2), resumed: true, cipherSuite: "TLS-X")
        #expect(pending == [[1], [2]])
        #expect(core.state == .connected && core.cipherSuite == "TLS-X" && core.connectedAt == Instant.zero + .seconds(2))
        let events = [core.nextEvent(), core.nextEvent()]
        #expect(events == [.connected(resumed: true, cipherSuite: "TLS-X"), nil])
        let writeNow = try core.admit([4])
        #expect(writeNow)  // connected: the backend writes it
    }

    @Test("fail and close act once, on a live session only; afterwards send is refused")
    func finalStates() throws {
        var core = DTLSSessionCore(maxQueued: 4, now: .zero)
        _ = try core.admit([1])
        let failed = core.fail(.handshakeTimeout), failedAgain = core.fail(.notConnected), closed = core.close()
        #expect(failed && !failedAgain && !closed)
        #expect(core.state == .failed && !core.isLive)
        let events = [core.nextEvent(), core.nextEvent()]
        #expect(events == [.failed(.handshakeTimeout), nil])
        #expect(throws: DTLSError.notConnected) { _ = try core.admit([2]) }

        var closing = DTLSSessionCore(maxQueued: 4, now: .zero)
        _ = try closing.admit([1])
        let closedOnce = closing.close(), closedTwice = closing.close()
        #expect(closedOnce && !closedTwice)
        #expect(closing.state == .closed)
        let closingEvent = closing.nextEvent()
        #expect(closingEvent == .closed)
        let late = closing.connect(at: .zero, resumed: false, cipherSuite: "late")
        #expect(late.isEmpty)  // the queue was dropped on close
    }

    @Test("the clock never goes back; an empty datagram or one after the end is not taken")
    func acceptAndClock() {
        var core = DTLSSessionCore(maxQueued: 1, now: Instant.zero + .seconds(5))
        let empty = core.accept([], now: Instant.zero + .seconds(6))
        let taken = core.accept([0x16], now: Instant.zero + .seconds(3))
        #expect(!empty && taken && core.incoming == [[0x16]])
        #expect(core.now == Instant.zero + .seconds(6))
        core.advanceClock(to: Instant.zero + .seconds(1))
        #expect(core.now == Instant.zero + .seconds(6))
        _ = core.close()
        let afterClose = core.accept([0x17], now: Instant.zero + .seconds(7))
        #expect(!afterClose && core.incoming == [[0x16]] && core.now == Instant.zero + .seconds(7))
    }

    @Test("datagrams and application data come out first in, first out")
    func queuesAreFIFO() {
        var core = DTLSSessionCore(maxQueued: 1, now: .zero)
        core.outgoing.append([1])
        core.outgoing.append([2])
        core.received.append([3])
        let datagrams = [core.nextDatagram(), core.nextDatagram(), core.nextDatagram()]
        #expect(datagrams == [[1], [2], nil])
        let data = [core.nextApplicationData(), core.nextApplicationData()]
        #expect(data == [[3], nil])
        core.peerClosed()
        let event = core.nextEvent()
        #expect(core.state == .closed && event == .closed)
    }
}

/// ``DynamicLibrary``: the soname loop and the symbol binding GnuTLS and libcurl are loaded with.
@Suite("DynamicLibrary: dlopen over sonames, symbols with the missing ones listed")
struct DynamicLibraryTests {
    @Test("the first soname that loads wins; a symbol not there is nil and listed as missing")
    func loadsAndBinds() throws {
        var library = try DynamicLibrary.load(["libno-such-library.so.0", "libc.so.6"]).get()
        let found = library.symbol("strlen"), absent = library.symbol("no_such_symbol_here")
        #expect(found != nil && absent == nil)
        #expect(library.missing == ["no_such_symbol_here"])
    }

    @Test("no soname loads: the failure carries dlerror's words for the last one")
    func reportsWhy() {
        guard case .failure(let error) = DynamicLibrary.load(["libno-such-library.so.0", "libnor-this.so.1"]) else {
            Issue.record("loaded a library that does not exist")
            return
        }
        #expect(error.reason.contains("libnor-this.so.1"))
    }
}
