import Glibc
import Testing
import Transport

@Suite struct SocketAddressTests {
    @Test func parsesIPv4Literal() throws {
        let address = try #require(SocketAddress(ipAddress: "127.0.0.1", port: 5683))
        #expect(address.family == .ipv4)
        #expect(address.port == 5683)
        #expect(address.ipv4Address == 0x7F00_0001)
        #expect(address.description == "127.0.0.1:5683")
        #expect(address.isLoopback)
        #expect(address == .loopback(.ipv4, port: 5683))
    }

    @Test func parsesIPv6LiteralWithAndWithoutBrackets() throws {
        let plain = try #require(SocketAddress(ipAddress: "::1", port: 5683))
        let bracketed = try #require(SocketAddress(ipAddress: "[::1]", port: 5683))
        #expect(plain == bracketed)
        #expect(plain.family == .ipv6)
        #expect(plain.ipv4Address == nil)
        #expect(plain.description == "[::1]:5683")
        #expect(plain == .loopback(.ipv6, port: 5683))
    }

    @Test func parsesNumericScope() throws {
        let scoped = try #require(SocketAddress(ipAddress: "fe80::1%3", port: 1))
        #expect(scoped.scopeID == 3)
        #expect(scoped.description == "[fe80::1%3]:1")
        #expect(scoped != SocketAddress(ipAddress: "fe80::1", port: 1))
        let loopbackByName = try #require(SocketAddress(ipAddress: "fe80::1%lo", port: 1))
        #expect(loopbackByName.scopeID == if_nametoindex("lo"))
    }

    @Test(arguments: [
        "127.0.0.1:5683", "0.0.0.0:0", "255.255.255.255:65535", "192.0.2.33:61616",
        "[::1]:5683", "[::]:0", "[2001:db8::1]:5684", "[fe80::1%2]:5683",
        "[2001:db8:0:1:1:1:1:1]:1", "[fd00::2]:65535",
    ])
    func descriptionRoundTrips(text: String) throws {
        let address = try #require(SocketAddress(text))
        #expect(address.description == text)
        #expect(SocketAddress(address.description) == address)
    }

    @Test(arguments: [
        "", "1.2.3", "256.1.1.1", "localhost", "[1.2.3.4]", "::1%", "[::1", "::1]", "[]",
        "1.2.3.4:80", "::g", "fe80::1%no-such-interface0", " 127.0.0.1", "127.0.0.1 ",
    ])
    func rejectsNonLiterals(text: String) {
        #expect(SocketAddress(ipAddress: text, port: 1) == nil)
    }

    @Test(arguments: ["::1:5683", "1.2.3.4", "1.2.3.4:70000", "[::1]", "[::1]:", "host:80", ":80"])
    func rejectsMalformedDescriptions(text: String) {
        #expect(SocketAddress(text) == nil)
    }

    @Test func mappedIPv6NormalisesToIPv4() throws {
        let plain = try #require(SocketAddress(ipAddress: "192.0.2.1", port: 5683))
        let mapped = try #require(SocketAddress(ipAddress: "::ffff:192.0.2.1", port: 5683))
        #expect(mapped == plain)
        #expect(mapped.hashValue == plain.hashValue)
        #expect(mapped.family == .ipv4)
        #expect(mapped.description == "192.0.2.1:5683")
        #expect(Set([plain, mapped]).count == 1)
        #expect(mapped != SocketAddress(ipAddress: "192.0.2.1", port: 5684))
    }

    @Test func mappedSockAddrFromKernelNormalisesToIPv4() throws {
        let plain = SocketAddress(ipv4: 0x7F00_0001, port: 9)
        // Build the sockaddr_in6 a dual-stack socket reports for an IPv4 sender.
        let decoded = plain.withIPv6SockAddr { address, length -> SocketAddress? in
            #expect(Int32(address.pointee.sa_family) == AF_INET6)
            #expect(Int(length) == MemoryLayout<sockaddr_in6>.size)
            return SocketAddress(address, length: length)
        }
        #expect(decoded == plain)
        #expect(decoded?.hashValue == plain.hashValue)
        let mappedBytes = plain.withIPv6SockAddr { address, _ in
            address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                var ip = sin6.pointee.sin6_addr
                return (withUnsafeBytes(of: &ip) { Array($0) }, UInt16(bigEndian: sin6.pointee.sin6_port))
            }
        }
        #expect(mappedBytes.0 == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 127, 0, 0, 1])
        #expect(mappedBytes.1 == 9)
    }

    @Test func sockAddrRoundTrips() throws {
        for text in ["10.1.2.3:4", "[2001:db8::7]:5683", "[fe80::9%5]:1"] {
            let address = try #require(SocketAddress(text))
            let decoded = address.withSockAddr { pointer, length -> SocketAddress? in
                let expectedFamily = address.family == .ipv4 ? AF_INET : AF_INET6
                #expect(Int32(pointer.pointee.sa_family) == expectedFamily)
                return SocketAddress(pointer, length: length)
            }
            #expect(decoded == address)
        }
    }

    @Test func rejectsShortOrForeignSockAddr() {
        var storage = sockaddr_storage()
        storage.ss_family = sa_family_t(AF_UNIX)
        #expect(SocketAddress(&storage, length: socklen_t(MemoryLayout<sockaddr_storage>.size)) == nil)
        storage.ss_family = sa_family_t(AF_INET6)
        #expect(SocketAddress(&storage, length: socklen_t(MemoryLayout<sockaddr_in>.size)) == nil)
    }

    @Test func portAndScopeDistinguishPeers() throws {
        let a = try #require(SocketAddress("[fe80::1%1]:5683"))
        let b = try #require(SocketAddress("[fe80::1%2]:5683"))
        let c = try #require(SocketAddress("[fe80::1%1]:5684"))
        #expect(Set([a, b, c]).count == 3)
        // Same low 64 bits, different high 64 bits.
        let d = try #require(SocketAddress("[2001:db8::1]:5683"))
        let e = try #require(SocketAddress("[2001:db9::1]:5683"))
        #expect(d != e)
        #expect(Set([d, e]).count == 2)
    }

    @Test func isCompact() {
        #expect(MemoryLayout<SocketAddress>.size <= 24)
        #expect(MemoryLayout<SocketAddress>.stride <= 24)
    }

    @Test func wildcardAndFamilyConstants() {
        #expect(SocketAddress.wildcard(.ipv4).description == "0.0.0.0:0")
        #expect(SocketAddress.wildcard(.ipv6, port: 7).description == "[::]:7")
        #expect(SocketAddress.wildcard(.ipv6).isWildcard)
        #expect(SocketAddress.wildcard(.ipv4).isWildcard)
        #expect(!SocketAddress.loopback(.ipv4, port: 0).isWildcard)
        #expect(SocketAddress.Family(rawValue: AF_INET) == .ipv4)
        #expect(SocketAddress.Family(rawValue: AF_INET6)?.rawValue == AF_INET6)
        #expect(SocketAddress.Family(rawValue: AF_UNIX) == nil)
    }
}
