import Testing
import Transport

@Suite struct ResolverTests {
    @Test func resolvesIPv4LiteralWithoutDNS() throws {
        #expect(try Resolver.resolve(host: "127.0.0.1", port: 5683) == [.loopback(.ipv4, port: 5683)])
    }

    @Test func resolvesIPv6Literals() throws {
        #expect(try Resolver.resolve(host: "::1", port: 5684) == [.loopback(.ipv6, port: 5684)])
        #expect(try Resolver.resolve(host: "[::1]", port: 5684) == [.loopback(.ipv6, port: 5684)])
    }

    @Test func resolvesLocalhost() throws {
        let addresses = try Resolver.resolve(host: "localhost", port: 5683)
        #expect(!addresses.isEmpty)
        #expect(addresses.allSatisfy { $0.isLoopback && $0.port == 5683 })
        #expect(Set(addresses).count == addresses.count)
    }

    @Test func familyFilter() throws {
        let v4 = try Resolver.resolve(host: "localhost", port: 1, family: .ipv4)
        #expect(v4.contains(.loopback(.ipv4, port: 1)))
        #expect(v4.allSatisfy { $0.family == .ipv4 })
        #expect(throws: TransportError.self) { try Resolver.resolve(host: "127.0.0.1", port: 1, family: .ipv6) }
    }

    @Test func unknownHostFailsWithResolutionError() {
        do {
            let addresses = try Resolver.resolve(host: "no-such-host.invalid", port: 5683)
            Issue.record("unexpectedly resolved to \(addresses)")
        } catch {
            guard case .resolution(let host, let message) = error else {
                Issue.record("expected .resolution, got \(error)")
                return
            }
            #expect(host == "no-such-host.invalid")
            #expect(!message.isEmpty)
            #expect(error.description.contains("no-such-host.invalid"))
        }
    }

    @Test func emptyAndBrokenLiteralsAreInvalid() {
        #expect(throws: TransportError.invalidAddress("")) { try Resolver.resolve(host: "", port: 1) }
        #expect(throws: TransportError.invalidAddress("[::1")) { try Resolver.resolve(host: "[::1", port: 1) }
    }
}
