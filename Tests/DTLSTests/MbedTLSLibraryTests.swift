import CMbedTLS
@testable import DTLS
import Glibc
import Testing

/// mbedTLS is dlopen'ed on first use (`MbedTLSLibrary`): what a missing or wrong library gives,
/// and that the bound table holds each symbol at its own field (the shim's name list and struct
/// come from one X-macro; a shift would call the wrong function).
@Suite("mbedTLS loaded on first use")
struct MbedTLSLibraryTests {
    @Test("a soname that does not load: .unsupportedLibrary with dlerror's words, one line")
    func missingLibrary() {
        guard case .failure(let error) = MbedTLSLibrary.load(["libmbedtls.so.97"]) else {
            Issue.record("libmbedtls.so.97 loaded")
            return
        }
        #expect(error == .unsupportedLibrary(
            "mbedTLS cannot be loaded: libmbedtls.so.97: cannot open shared object file: No such file or directory"))
        #expect(!error.description.contains("\n"))
    }

    @Test("a library without mbedTLS's symbols: .unsupportedLibrary listing the missing ones")
    func missingSymbols() {
        guard case .failure(.unsupportedLibrary(let reason)) = MbedTLSLibrary.load(["libm.so.6"]) else {
            Issue.record("libm.so.6 passed for libmbedtls")
            return
        }
        #expect(reason.hasPrefix("libm.so.6 lacks mbedtls_ecdsa_write_signature, mbedtls_ecp_check_pubkey, "), "\(reason)")
        #expect(reason.hasSuffix(", mbedtls_eckey_info"), "\(reason)")
    }

    @Test("the installed library binds every field to the symbol of its name, in order")
    func everyFieldIsItsSymbol() throws {
        try MbedTLSLibrary.load()
        // This test bundle links mbedTLS itself, so the process's own lookup is the reference.
        let table = try #require(try? MbedTLSLibrary.loaded.get())
        let fields = UnsafeRawPointer(table).assumingMemoryBound(to: UnsafeRawPointer?.self)
        let count = MemoryLayout<cmbedtls_api>.size / MemoryLayout<UnsafeRawPointer>.stride
        var index: UInt32 = 0
        while let name = cmbedtls_symbol_name(index) {
            let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name)  // RTLD_DEFAULT
            #expect(symbol != nil && UnsafeRawPointer(symbol) == fields[Int(index)], "\(String(cString: name))")
            index += 1
        }
        #expect(Int(index) == count && count > 70)
        // And calling through the table is calling the library.
        #expect(mbedTLS.mbedtls_version_get_number() == mbedtls_version_get_number())
    }
}
