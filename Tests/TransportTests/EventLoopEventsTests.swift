// EventLoop.watch(_:events:_:): descriptors another library reads and writes itself (libcurl's
// sockets), watched for POLLIN and/or POLLOUT, with the events poll(2) reported.
import CoAP
import Glibc
import Testing
import Transport

@Suite struct EventLoopEventsTests {
    /// A pipe: (read end, write end), both non-blocking.
    static func pipePair() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        return (fds[0], fds[1])
    }

    @Test func writableDescriptorIsReportedWithPOLLOUTAndEventsCanChange() throws {
        let (readEnd, writeEnd) = try Self.pipePair()
        defer { close(readEnd); close(writeEnd) }
        let loop = EventLoop()
        var reported: [Int16] = []
        let source = loop.watch(writeEnd, events: Int16(POLLOUT)) { _, events in reported.append(events) }
        try loop.runOnce(until: MonotonicClock.now() + Duration.milliseconds(200))
        #expect(reported.count == 1)
        #expect(reported.first.map { $0 & Int16(POLLOUT) != 0 } == true)

        // Watched for POLLIN only, an empty pipe's write end never becomes ready.
        loop.setEvents(source, Int16(POLLIN))
        let start = MonotonicClock.now()
        try loop.runOnce(until: start + Duration.milliseconds(30))
        #expect(reported.count == 1)
        #expect(MonotonicClock.now() - start >= Duration.milliseconds(29))

        loop.remove(source)
        try loop.runOnce(until: MonotonicClock.now() + Duration.milliseconds(5))
        #expect(reported.count == 1)
    }

    @Test func readableDescriptorIsReportedWithPOLLINBesideOtherSources() throws {
        let (readEnd, writeEnd) = try Self.pipePair()
        defer { close(readEnd); close(writeEnd) }
        let loop = EventLoop()
        var reported: [Int16] = []
        loop.watch(readEnd, events: Int16(POLLIN | POLLOUT)) { _, events in
            reported.append(events)
            var byte: UInt8 = 0
            _ = read(readEnd, &byte, 1)
        }
        var byte: UInt8 = 7
        #expect(write(writeEnd, &byte, 1) == 1)
        try loop.runOnce(until: MonotonicClock.now() + Duration.milliseconds(200))
        #expect(reported == [Int16(POLLIN)], "a pipe's read end is never writable: POLLIN alone")
    }
}
