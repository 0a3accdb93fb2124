import Glibc
import Testing
import Transport

@Suite struct TransportErrorTests {
    @Test func socketErrorDescriptionUsesStrerror() {
        let error = TransportError.socket(errno: ECONNREFUSED, operation: "sendto")
        let expected = String(cString: strerror(ECONNREFUSED))
        #expect(error.description.contains("sendto"))
        #expect(error.description.contains(expected))
        #expect(error.errno == ECONNREFUSED)
        #expect(TransportError.invalidAddress("x").errno == nil)
    }

    @Test func equality() {
        #expect(TransportError.invalidAddress("a") == .invalidAddress("a"))
        #expect(TransportError.invalidAddress("a") != .invalidAddress("b"))
        #expect(TransportError.resolution(host: "h", message: "m").description.contains("\"h\""))
    }
}
