import CMbedTLS
import DynamicLoading

/// Mbed TLS 2.28, loaded with `dlopen` the first time something needs it (a DTLS session, a
/// signature, a certificate request, a digest) and kept loaded. Linking it would map libmbedtls,
/// libmbedx509 and libmbedcrypto into every agent and relocate their ~1,900 relocations at each
/// start — `--version`, a NoSec daemon, the CLI's status command — for nothing.
///
/// Every mbedTLS call of the agent goes through ``mbedTLS`` (`mbedTLS.mbedtls_ssl_setup(...)`),
/// the table CMbedTLS's shim declares with one typed field per symbol.
public enum MbedTLSLibrary {
    /// The sonames tried, in order: Debian bookworm's libmbedtls (2.28), whose dependencies bring
    /// libmbedx509.so.1 and libmbedcrypto.so.7 (dlsym searches them through its handle).
    /// Versioned names only: another ABI under the bare `.so` is not this one.
    public static let sonames = ["libmbedtls.so.14"]

    /// The bound table, or why mbedTLS cannot be used. Loaded once, thread-safely (a Swift global);
    /// immutable afterwards, hence `nonisolated(unsafe)` for the pointer inside.
    nonisolated(unsafe) static let loaded: Result<UnsafePointer<cmbedtls_api>, DTLSError> = load(sonames)

    /// Loads mbedTLS if that has not happened yet; throws `.unsupportedLibrary` with `dlerror()`'s
    /// reason or the missing symbols. Every entry point that leads to an mbedTLS call runs this
    /// (or ``MbedTLSGuard/check()``, which starts with it) first.
    public static func load() throws(DTLSError) {
        _ = try loaded.get()
    }

    /// Opens the first of `sonames` and binds every field of `cmbedtls_api`, in field order.
    /// Internal (not `private`) so a test can load a soname list that does not exist.
    static func load(_ sonames: [String]) -> Result<UnsafePointer<cmbedtls_api>, DTLSError> {
        var library: DynamicLibrary
        switch DynamicLibrary.load(sonames) {
        case .success(let opened): library = opened
        case .failure(let error): return .failure(.unsupportedLibrary("mbedTLS cannot be loaded: \(error.reason)"))
        }
        let stride = MemoryLayout<UnsafeRawPointer>.stride
        let size = MemoryLayout<cmbedtls_api>.size
        let table = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: MemoryLayout<cmbedtls_api>.alignment)
        var index: UInt32 = 0
        // One pointer-sized field per name, in the same order (the shim's X-macro makes both).
        while let name = cmbedtls_symbol_name(index), Int(index) * stride < size {
            let symbol = library.symbol(String(cString: name))
            table.storeBytes(of: symbol, toByteOffset: Int(index) * stride, as: UnsafeMutableRawPointer?.self)
            index += 1
        }
        guard Int(index) * stride == size, library.missing.isEmpty else {
            table.deallocate()
            let missing = library.missing.isEmpty ? "a symbol table of another layout" : library.missing.joined(separator: ", ")
            return .failure(.unsupportedLibrary("\(sonames.first ?? "mbedTLS") lacks \(missing)"))
        }
        return .success(UnsafePointer(table.bindMemory(to: cmbedtls_api.self, capacity: 1)))
    }
}

/// mbedTLS's functions, once ``MbedTLSLibrary`` has loaded them: `mbedTLS.mbedtls_ssl_read(...)`.
/// Using it before ``MbedTLSLibrary/load()`` succeeded stops the process with the reason (a
/// programming error: every entry point loads first and reports a missing library as an error).
/// Immutable after its one initialisation, hence `nonisolated(unsafe)`.
nonisolated(unsafe) public let mbedTLS: cmbedtls_api = {
    switch MbedTLSLibrary.loaded {
    case .success(let table): return table.pointee
    case .failure(let error): fatalError("mbedTLS used before MbedTLSLibrary.load(): \(error)")
    }
}()
