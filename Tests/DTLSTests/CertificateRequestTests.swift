import Credentials
import DTLS
import Testing
import TestSupport

@Suite("CSR and public-key helpers for Signer keys")
struct CertificateRequestTests {
    @Test("the CSR signed through a Signer passes openssl req -verify, CN = the given name")
    func csrVerifies() throws {
        try MbedTLSGuard.check()
        let pki = try TestPKI()
        let signer = CountingSigner(try pki.signer("client"))
        let pem = try CertificateRequest.pem(commonName: "urn:dev:gw,1", signer: signer, random: testRandom)
        #expect(pem.hasPrefix("-----BEGIN CERTIFICATE REQUEST-----"))
        #expect(signer.calls == 1)
        try writeFile(pki.path("signer.csr"), Array(pem.utf8))
        let result = try ChildProcess.run(["openssl", "req", "-verify", "-in", pki.path("signer.csr"), "-noout", "-subject",
                                           "-nameopt", "RFC2253"])
        #expect(result.status == 0, "\(result.text)")
        #expect(result.text.contains("verify OK") || result.text.contains("verify ok"), "\(result.text)")
        #expect(result.text.contains("CN=urn:dev:gw\\,1"), "\(result.text)")
    }

    @Test("SubjectPublicKeyInfo DER equals openssl's, and signatures verify against the signer's key")
    func publicKeyInfo() throws {
        try MbedTLSGuard.check()
        let pki = try TestPKI()
        let signer = try pki.signer("client")
        let result = try ChildProcess.run(["openssl", "pkey", "-in", pki.path("client.key"), "-pubout", "-outform", "DER",
                                           "-out", pki.path("client.pub.der")])
        #expect(result.status == 0)
        #expect(PublicKeyInfo.der(publicKeyPoint: signer.publicKeyPoint) == (try readFile(pki.path("client.pub.der"))))
        let digest = PublicKeyInfo.sha256(Array("abc".utf8))
        #expect(digest.prefix(4) == [0xBA, 0x78, 0x16, 0xBF])
        let signature = try signer.sign(digest: digest)
        #expect(try PublicKeyInfo.verify(signature: signature, digest: digest, signer: signer))
        #expect(try !PublicKeyInfo.verify(signature: signature, digest: PublicKeyInfo.sha256([1]), signer: signer))
    }
}
