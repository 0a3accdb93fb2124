import CoAP
@testable import LwM2M
import Testing

/// Issue 16: Bootstrap-Finish checks for Security Mode 1 (RPK) accounts, replacing the refusal
/// of every RPK account: our key (/0/x/3), the private key (/0/x/5) and the server's key
/// (/0/x/4) must be there and be ECDSA P-256 SubjectPublicKeyInfos.
@Suite struct RawPublicKeyConsistencyTests {
    private let check = BootstrapConsistencyCheck(supportedModes: [.noSecurity, .preSharedKey, .certificate, .rawPublicKey])

    static func spki(_ fill: UInt8) -> [UInt8] {
        RawPublicKeyShape.p256Header + [UInt8](repeating: fill, count: 64)
    }

    private func verdict(identity: [UInt8]?, serverKey: [UInt8]?, secret: Bool = true) -> String? {
        var security = Accounts.securityRecords(instance: 1, uri: "coaps://dm", bootstrap: false, mode: 1, ssid: 1, identity: identity)
        if let serverKey { security.append(LwM2MRecord(LwM2MPath(0, 1, 4), .opaque(serverKey))) }
        return consistencyVerdict(check, security: security, servers: Accounts.serverRecords(instance: 0, ssid: 1),
                                  secrets: secret ? [1: "k"] : [:])
    }

    @Test func aCompleteP256AccountPasses() {
        #expect(verdict(identity: Self.spki(1), serverKey: Self.spki(2)) == nil)
    }

    @Test func missingPiecesAreNamed() {
        #expect(verdict(identity: nil, serverKey: Self.spki(2)) == "/0/1: Security Mode RPK without our public key (/0/1/3)")
        #expect(verdict(identity: Self.spki(1), serverKey: Self.spki(2), secret: false)
                == "/0/1: Security Mode RPK without a private key (/0/1/5)")
        #expect(verdict(identity: Self.spki(1), serverKey: nil) == "/0/1: Security Mode RPK without the server's public key (/0/1/4)")
    }

    @Test func keysOfOtherTypesCurvesOrSizesAreRefused() {
        // P-384 (secp384r1 OID 1.3.132.0.34) SubjectPublicKeyInfo header, 97-byte point.
        let p384: [UInt8] = [0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x05, 0x2B, 0x81,
                             0x04, 0x00, 0x22, 0x03, 0x62, 0x00, 0x04] + [UInt8](repeating: 3, count: 96)
        #expect(verdict(identity: p384, serverKey: Self.spki(2))
                == "/0/1: Security Mode RPK: our public key (/0/1/3) is an EC key on another curve or in compressed form (ECDSA P-256, uncompressed, only)")
        let rsa: [UInt8] = [0x30, 0x82, 0x01, 0x22, 0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01, 0x05, 0x00]
            + [UInt8](repeating: 0, count: 40)
        #expect(verdict(identity: Self.spki(1), serverKey: rsa)
                == "/0/1: Security Mode RPK: the server's public key (/0/1/4) is an RSA key (raw public keys here: ECDSA P-256 only)")
        #expect(verdict(identity: Array(Self.spki(1).dropLast()), serverKey: Self.spki(2))?.contains("not an ECDSA P-256") == true)
        #expect(verdict(identity: Self.spki(1), serverKey: Array("hello".utf8))
                == "/0/1: Security Mode RPK: the server's public key (/0/1/4) is not a DER SubjectPublicKeyInfo")
    }

    @Test func aBuildWithoutRPKStillRefusesWithTheReason() {
        let without = BootstrapConsistencyCheck(supportedModes: [.noSecurity, .preSharedKey, .certificate])
        var security = Accounts.securityRecords(instance: 1, uri: "coaps://dm", bootstrap: false, mode: 1, ssid: 1, identity: Self.spki(1))
        security.append(LwM2MRecord(LwM2MPath(0, 1, 4), .opaque(Self.spki(2))))
        let result = consistencyVerdict(without, security: security, servers: Accounts.serverRecords(instance: 0, ssid: 1), secrets: [1: "k"])
        #expect(result?.contains("RPK is not supported") == true)
    }
}
