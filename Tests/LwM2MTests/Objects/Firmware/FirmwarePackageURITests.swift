@testable import LwM2M
import Testing

/// Package URI syntax and scheme checks (RFC 3986 §3; the schemes of /5/0/8).
@Suite struct FirmwarePackageURITests {
    private let all = Set(FirmwareProtocol.allCases)

    @Test func validURIsAreTakenApart() throws {
        let uri = try FirmwarePackageURI("coaps://fw.example.com:5684/gw/2.0?v=1&x=%2F", supported: all)
        #expect(uri.downloadProtocol == .coaps)
        #expect(uri.host == "fw.example.com")
        #expect(uri.port == 5684)
        let literal = try FirmwarePackageURI("HTTP://user@[2001:db8::1]/image.bin", supported: all)
        #expect(literal.downloadProtocol == .http)
        #expect(literal.host == "2001:db8::1")
        #expect(literal.port == nil)
        #expect(try FirmwarePackageURI("coap+tcp://10.0.0.1:", supported: all).downloadProtocol == .coapOverTCP)
        #expect(try FirmwarePackageURI("coaps+tcp://h", supported: all).downloadProtocol == .coapOverTLS)
        #expect(try FirmwarePackageURI("https://h/" + String(repeating: "a", count: 245), supported: all).port == nil)
    }

    @Test func malformedURIsAreInvalid() {
        let bad = ["", "x", ":", "1coap://h/", "co ap://h/", "coap:h/x", "coap:///x", "coap://h:0/", "coap://h:65536/",
                   "coap://h:12a/", "coap://[::1/x", "coap://[zz]/", "coap://[::1]x/", "coap://h/\u{7F}", "coap://h/é",
                   "coap://h/x#y", "coap://h/%4", "coap://h/%4g", "coap://a b/", "coap://h/\n",
                   "https://h/" + String(repeating: "a", count: 246)]
        for text in bad {
            #expect(throws: FirmwarePackageURI.Failure.self, "\(text)") { try FirmwarePackageURI(text, supported: all) }
            do {
                _ = try FirmwarePackageURI(text, supported: all)
            } catch {
                #expect(error.updateResult == .invalidURI, "\(text): \(error)")
            }
        }
    }

    @Test func schemesOutsideTheSupportedSetAreUnsupportedProtocols() {
        for (text, supported) in [("ftp://h/x", all), ("file://h/x", all), ("http://h/x", Set([FirmwareProtocol.coap])),
                                  ("coaps://h/x", Set<FirmwareProtocol>())] {
            #expect(throws: FirmwarePackageURI.Failure.unsupportedProtocol(String(text.prefix { $0 != ":" }))) {
                try FirmwarePackageURI(text, supported: supported)
            }
        }
    }
}
