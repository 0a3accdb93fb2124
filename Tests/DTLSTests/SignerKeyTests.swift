import CMbedTLS
import Credentials
@testable import DTLS
import Testing
import TestSupport

@Suite("mbedTLS start-up guard and Signer-backed PK")
struct SignerKeyTests {
    @Test("the installed mbedTLS passes the start-up guard")
    func guardPasses() throws {
        try MbedTLSGuard.check()
        #expect(MbedTLSGuard.versionString(0x021C0300) == "2.28.3")
    }

    @Test("the guard names what is wrong with another mbedTLS")
    func guardRefusals() {
        let present: (String) -> Int32 = { MbedTLSGuard.forbiddenFeatures.contains($0) ? -1 : 0 }
        #expect(throws: DTLSError.unsupportedLibrary("version 3.6.0 found, this build needs 2.28.x")) {
            try MbedTLSGuard.check(runtimeVersion: 0x0306_0000, featureStatus: present)
        }
        #expect(throws: DTLSError.unsupportedLibrary("built without MBEDTLS_CCM_C")) {
            try MbedTLSGuard.check(runtimeVersion: 0x021C_0300) { $0 == "MBEDTLS_CCM_C" ? -1 : present($0) }
        }
        #expect(throws: DTLSError.unsupportedLibrary("built without MBEDTLS_SSL_DTLS_HELLO_VERIFY")) {
            try MbedTLSGuard.check(runtimeVersion: 0x021C_0A00) { $0 == "MBEDTLS_SSL_DTLS_HELLO_VERIFY" ? -1 : present($0) }
        }
        #expect(throws: DTLSError.unsupportedLibrary("built with MBEDTLS_ECP_RESTARTABLE, which changes the PK vtable layout")) {
            try MbedTLSGuard.check(runtimeVersion: 0x021C_0300) { _ in 0 }
        }
        #expect(throws: DTLSError.unsupportedLibrary("built without MBEDTLS_VERSION_FEATURES, its configuration cannot be checked")) {
            try MbedTLSGuard.check(runtimeVersion: 0x021C_0300) { _ in -2 }
        }
        #expect("\(DTLSError.unsupportedLibrary("built without MBEDTLS_CCM_C"))" == "unsupported mbedTLS: built without MBEDTLS_CCM_C")
    }

    @Test("mbedtls_pk_sign on a SignerKey goes through the Signer and verifies with the public key")
    func signThroughVtable() throws {
        let signer = CountingSigner(try SoftwareSigner(generatingWith: testRandom))
        #expect(signer.publicKeyPoint.count == 65 && signer.publicKeyPoint[0] == 4)
        let key = try SignerKey(signer: signer)
        #expect(mbedtls_pk_can_do(key.context, MBEDTLS_PK_ECDSA) == 1)
        #expect(mbedtls_pk_get_bitlen(key.context) == 256)
        let hash = [UInt8](repeating: 0xAB, count: 32)
        var signature = [UInt8](repeating: 0, count: Int(MBEDTLS_PK_SIGNATURE_MAX_SIZE))
        var length = 0
        #expect(mbedtls_pk_sign(key.context, MBEDTLS_MD_SHA256, hash, 32, &signature, &length, nil, nil) == 0)
        #expect(signer.calls == 1)
        #expect(mbedtls_pk_verify(key.context, MBEDTLS_MD_SHA256, hash, 32, signature, length) == 0)
        signature[length - 1] ^= 1
        #expect(mbedtls_pk_verify(key.context, MBEDTLS_MD_SHA256, hash, 32, signature, length) != 0)

        signer.fail = true
        #expect(mbedtls_pk_sign(key.context, MBEDTLS_MD_SHA256, hash, 32, &signature, &length, nil, nil) != 0)
        #expect(key.box.lastError?.contains("unplugged") == true)
    }

    @Test("a SoftwareSigner loads a PKCS#8 DER key made by openssl")
    func loadsPKCS8() throws {
        let pki = try TestPKI()
        let signer = try pki.signer("client")
        let signature = try signer.sign(digest: [UInt8](repeating: 1, count: 32))
        #expect(signature.first == 0x30 && signature.count >= 8 && signature.count <= 72)
        #expect(throws: DTLSError.self) { try SoftwareSigner(privateKey: SecretBytes([1, 2, 3]), random: testRandom) }
    }
}
