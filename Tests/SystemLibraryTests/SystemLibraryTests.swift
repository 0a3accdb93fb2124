// Smoke tests for the three system-library targets (CTSS2, CMbedTLS, CGPIOD).
//
// Each test makes real calls into the C library, so a passing run proves that the
// modulemap's headers import into Swift, that the libraries resolve (mbedTLS through the
// modulemap's `link` directives, the TSS through this target's linker settings, libgpiod through
// the GPIO module's dlopen loader and CGPIOD's wrappers), and that the installed library
// versions behave as the Swift wrappers expect. No TPM, GPIO chip or network is needed.

import Testing
import CGPIOD
import CMbedTLS
import CTSS2
@testable import GPIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// MARK: - Mbed TLS

/// Self-signed P-256 certificate, CN=lwm2m-agent-test, valid until 2126.
/// Generated with `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1`.
private let testCertificatePEM = """
    -----BEGIN CERTIFICATE-----
    MIIBjjCCATOgAwIBAgIUZRJiMVGqgvPNfHzQ1znxqhKMg4cwCgYIKoZIzj0EAwIw
    GzEZMBcGA1UEAwwQbHdtMm0tYWdlbnQtdGVzdDAgFw0yNjExMjExOTU2NDBaGA8y
    MTI2MTAyODE5NTY0MFowGzEZMBcGA1UEAwwQbHdtMm0tYWdlbnQtdGVzdDBZMBMG
    ByqGSM49AgEGCCqGSM49AwEHA0IABBy2KInEgNzMXnbDw36vI17JaSovvAEEFRbI
    QqcwHIW5dWrOQIxELRtrp2SSV+4ROVAN9HAjW5bozkan/BP6d9GjUzBRMB0GA1Ud
    DgQWBBRvZLt88/cT9HsLmAY7qxIuubtznjAfBgNVHSMEGDAWgBRvZLt88/cT9HsL
    mAY7qxIuubtznjAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQC+
    YX1ybxIzKTOYu0pd7It/4P6HY2hIq0uK851cDUBxqwIhAIlbphvthd944Dycup2L
    i9aEJSRJeYZ1pbmsIhEFzQQl
    -----END CERTIFICATE-----

    """

private func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    var s = ""
    for b in bytes {
        s.append(digits[Int(b >> 4)])
        s.append(digits[Int(b & 0x0F)])
    }
    return s
}

/// Decodes a NUL-terminated C string that C code wrote into a Swift array.
private func string(fromCBuffer buf: [CChar]) -> String {
    let bytes = buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}

private func mbedtlsErrorString(_ code: Int32) -> String {
    var buf = [CChar](repeating: 0, count: 256)
    mbedtls_strerror(code, &buf, buf.count)
    return string(fromCBuffer: buf)
}

@Suite("Mbed TLS (CMbedTLS)")
struct MbedTLSTests {
    @Test("runtime library is Mbed TLS 2.28.x and matches the headers")
    func version() {
        let runtime = mbedtls_version_get_number()
        // 0xMMNNPP00: major 2, minor 28.
        #expect(runtime >> 16 == 0x021C, "runtime version 0x\(String(runtime, radix: 16))")
        #expect(runtime == MBEDTLS_VERSION_NUMBER, "headers and shared library disagree")

        // mbedtls_version_get_string needs at least 9 bytes.
        var buf = [CChar](repeating: 0, count: 16)
        mbedtls_version_get_string(&buf)
        let text = string(fromCBuffer: buf)
        #expect(text.hasPrefix("2.28."))
        #expect(text == MBEDTLS_VERSION_STRING)
    }

    @Test("SHA-256 (libmbedcrypto) matches the FIPS 180-2 test vectors")
    func sha256() {
        let vectors: [(String, String)] = [
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ]
        for (input, expected) in vectors {
            let bytes = Array(input.utf8)
            var digest = [UInt8](repeating: 0, count: 32)
            let rc = mbedtls_sha256_ret(bytes, bytes.count, &digest, 0)
            #expect(rc == 0)
            #expect(hex(digest) == expected, "SHA-256(\"\(input)\")")
        }
    }

    @Test("CTR_DRBG seeded from the entropy pool produces distinct output")
    func ctrDrbg() {
        // Heap-allocated: ctr_drbg keeps a pointer to the entropy context for reseeding.
        let entropy = UnsafeMutablePointer<mbedtls_entropy_context>.allocate(capacity: 1)
        let drbg = UnsafeMutablePointer<mbedtls_ctr_drbg_context>.allocate(capacity: 1)
        mbedtls_entropy_init(entropy)
        mbedtls_ctr_drbg_init(drbg)
        defer {
            mbedtls_ctr_drbg_free(drbg)
            mbedtls_entropy_free(entropy)
            drbg.deallocate()
            entropy.deallocate()
        }

        let personalization = Array("lwm2m-agent".utf8)
        let seedRC = mbedtls_ctr_drbg_seed(
            drbg, mbedtls_entropy_func, entropy, personalization, personalization.count)
        #expect(seedRC == 0, "mbedtls_ctr_drbg_seed: \(mbedtlsErrorString(seedRC))")

        var a = [UInt8](repeating: 0, count: 32)
        var b = [UInt8](repeating: 0, count: 32)
        #expect(mbedtls_ctr_drbg_random(drbg, &a, a.count) == 0)
        #expect(mbedtls_ctr_drbg_random(drbg, &b, b.count) == 0)
        #expect(a != b)
        #expect(a != [UInt8](repeating: 0, count: 32))
    }

    @Test("X.509 parsing (libmbedx509) of a P-256 certificate and rejection of garbage")
    func x509() {
        let crt = UnsafeMutablePointer<mbedtls_x509_crt>.allocate(capacity: 1)
        mbedtls_x509_crt_init(crt)
        defer {
            mbedtls_x509_crt_free(crt)
            crt.deallocate()
        }

        // PEM input must include the terminating NUL in its length.
        let pem = Array(testCertificatePEM.utf8CString).map { UInt8(bitPattern: $0) }
        let rc = mbedtls_x509_crt_parse(crt, pem, pem.count)
        #expect(rc == 0, "mbedtls_x509_crt_parse: \(mbedtlsErrorString(rc))")

        var dn = [CChar](repeating: 0, count: 128)
        let n = mbedtls_x509_dn_gets(&dn, dn.count, &crt.pointee.subject)
        #expect(n > 0)
        #expect(string(fromCBuffer: dn) == "CN=lwm2m-agent-test")

        #expect(mbedtls_pk_get_type(&crt.pointee.pk) == MBEDTLS_PK_ECKEY)
        #expect(mbedtls_pk_get_bitlen(&crt.pointee.pk) == 256)

        // Garbage DER must be rejected with an X509 error, not crash.
        let garbage: [UInt8] = [0x30, 0x03, 0x02, 0x01]
        let other = UnsafeMutablePointer<mbedtls_x509_crt>.allocate(capacity: 1)
        mbedtls_x509_crt_init(other)
        defer {
            mbedtls_x509_crt_free(other)
            other.deallocate()
        }
        let bad = mbedtls_x509_crt_parse_der(other, garbage, garbage.count)
        #expect(bad < 0)
        #expect(mbedtlsErrorString(bad).contains("X509"), "\(mbedtlsErrorString(bad))")
    }

    @Test("DTLS client config (libmbedtls) and the LwM2M cipher suites are available")
    func dtlsConfig() {
        let conf = UnsafeMutablePointer<mbedtls_ssl_config>.allocate(capacity: 1)
        mbedtls_ssl_config_init(conf)
        defer {
            mbedtls_ssl_config_free(conf)
            conf.deallocate()
        }
        let rc = mbedtls_ssl_config_defaults(
            conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT)
        #expect(rc == 0, "mbedtls_ssl_config_defaults: \(mbedtlsErrorString(rc))")

        // LwM2M 1.x mandatory-to-implement suites (RFC 7925 profile).
        #expect(mbedtls_ssl_get_ciphersuite_id("TLS-PSK-WITH-AES-128-CCM-8") == 0xC0A8)
        #expect(mbedtls_ssl_get_ciphersuite_id("TLS-ECDHE-ECDSA-WITH-AES-128-CCM-8") == 0xC0AE)
        #expect(String(cString: mbedtls_ssl_get_ciphersuite_name(0xC0A8)) == "TLS-PSK-WITH-AES-128-CCM-8")
    }

    @Test("pk_internal.h exposes mbedtls_pk_info_t (needed for a TPM-backed key)")
    func pkInfo() {
        // Without pk_internal.h this would be an OpaquePointer and .pointee would not compile.
        let info: UnsafePointer<mbedtls_pk_info_t>? = mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)
        guard let info else {
            Issue.record("mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY) returned NULL")
            return
        }
        #expect(info.pointee.type == MBEDTLS_PK_ECKEY)
        #expect(String(cString: info.pointee.name) == "EC")
        #expect(info.pointee.sign_func != nil)
        #expect(info.pointee.verify_func != nil)
    }
}

// MARK: - TPM2 Software Stack

/// Splits a TSS2_RC into (layer, base code) as laid out in tss2_common.h.
private func split(_ rc: TSS2_RC) -> (layer: UInt32, code: UInt32) {
    (rc >> 16, rc & 0xFFFF)
}

@Suite("TPM2 Software Stack (CTSS2)", .serialized)
struct TSS2Tests {
    @Test("Tss2_RC_Decode (libtss2-rc) decodes TPM and TSS response codes")
    func rcDecode() {
        // Tss2_RC_Decode returns a pointer into a per-thread static buffer: copy each result
        // into a Swift String before the next call.
        let success = String(cString: Tss2_RC_Decode(0))
        let failure = String(cString: Tss2_RC_Decode(0x101))  // TPM2_RC_FAILURE
        let tctiIO = String(cString: Tss2_RC_Decode(0x000A_000A))  // TSS2_TCTI_RC_IO_ERROR

        #expect(success == "tpm:success")
        // tpm2-tss 3.2 spells TPM_RC_FAILURE out instead of printing the symbol name.
        #expect(failure == "tpm:error(2.0): commands not being accepted because of a TPM failure")
        #expect(tctiIO == "tcti:IO failure")
    }

    @Test("Tss2_MU (libtss2-mu) marshals big-endian and reports short buffers")
    func marshal() {
        var buf = [UInt8](repeating: 0, count: 4)
        var offset = 0
        #expect(Tss2_MU_UINT32_Marshal(0x0102_0304, &buf, buf.count, &offset) == 0)
        #expect(buf == [0x01, 0x02, 0x03, 0x04])
        #expect(offset == 4)

        var value: UINT32 = 0
        var readOffset = 0
        #expect(Tss2_MU_UINT32_Unmarshal(buf, buf.count, &readOffset, &value) == 0)
        #expect(value == 0x0102_0304)

        // No room left: layer 9 (MU), TSS2_BASE_RC_INSUFFICIENT_BUFFER.
        let rc = Tss2_MU_UINT32_Marshal(0xDEAD_BEEF, &buf, buf.count, &offset)
        #expect(split(rc) == (9, TSS2_BASE_RC_INSUFFICIENT_BUFFER))
        #expect(offset == 4)
    }

    @Test("ESYS (libtss2-esys) rejects a NULL context with an ESAPI-layer error")
    func esysBadReference() {
        var sys: OpaquePointer? = nil
        let rc = Esys_GetSysContext(nil, &sys)
        // Layer 7 (ESAPI), TSS2_BASE_RC_BAD_REFERENCE.
        #expect(split(rc) == (7, TSS2_BASE_RC_BAD_REFERENCE))
        #expect(sys == nil)
    }

    @Test("Tss2_TctiLdr_Initialize (libtss2-tctildr) fails cleanly for a missing device")
    func tctiLoaderMissingDevice() {
        // tpm2-tss logs three "ERROR:tcti:..." lines to stderr here; they are expected.
        var ctx: OpaquePointer? = nil
        let rc = Tss2_TctiLdr_Initialize("device:/nonexistent/tpm", &ctx)
        defer {
            // Should not happen; finalize so a regression does not leak the context.
            if ctx != nil { Tss2_TctiLdr_Finalize(&ctx) }
        }
        #expect(rc != 0)
        #expect(ctx == nil)
        #expect(split(rc).layer == 10, "expected a TCTI-layer error, got 0x\(String(rc, radix: 16))")
        #expect(String(cString: Tss2_RC_Decode(rc)).hasPrefix("tcti:"))
    }
}

// MARK: - libgpiod (v1 API)

/// libgpiod is dlopen'ed (GPIODLibrary): these call it through CGPIOD's `cgpiod_*` wrappers.
@Suite("libgpiod v1 (CGPIOD, loaded by GPIODLibrary)")
struct GPIODTests {
    @Test("gpiod_version_string reports the v1 API")
    func version() throws {
        let gpiod = try GPIODLibrary.functions()
        let version = String(cString: cgpiod_version_string(gpiod))
        #expect(version.hasPrefix("1."), "libgpiod \(version): the agent targets the v1 API")
    }

    @Test("gpiod_chip_open fails with errno for a missing path and for a non-GPIO file")
    func chipOpenFailures() throws {
        let gpiod = try GPIODLibrary.functions()
        errno = 0
        let missing = cgpiod_chip_open(gpiod, "/nonexistent")
        let missingErrno = errno
        #expect(missing == nil)
        #expect(missingErrno == ENOENT)
        if let missing { cgpiod_chip_close(gpiod, missing) }

        // A character device that is not a GPIO chip is rejected by the ioctl check.
        errno = 0
        let notChip = cgpiod_chip_open(gpiod, "/dev/null")
        let notChipErrno = errno
        #expect(notChip == nil)
        #expect(notChipErrno == ENOTTY || notChipErrno == ENODEV, "errno \(notChipErrno)")
        if let notChip { cgpiod_chip_close(gpiod, notChip) }
    }
}
