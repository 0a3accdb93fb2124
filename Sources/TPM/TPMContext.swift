import CTSS2
import Glibc

/// An open connection to the TPM: the TCTI, the ESAPI context and the storage primary key (SRK).
///
/// One context serves any number of stores and signers; calls are serialised on an internal
/// lock, so the context may be shared between threads. The SRK is looked up (or created and made
/// persistent) on first use. `close()` (or releasing the last reference) flushes every transient
/// object still loaded and closes the connection.
///
/// ```swift
/// let tpm = try TPMContext(configuration: TPMConfiguration(stateDirectory: "/var/lib/lwm2m-agent/tpm"))
/// let secrets = TPMCredentialStore(context: tpm)
/// let keys = TPMSigningKeyStore(context: tpm)
/// ```
public final class TPMContext: @unchecked Sendable {
    /// The configuration the context was opened with.
    public let configuration: TPMConfiguration

    private let lock = ContextLock()
    private var esapi: ESAPI?

    /// Opens the TCTI and the ESAPI context. Throws `.noTPM` when no TPM answers and
    /// `.invalidConfiguration` for a bad configuration; talks to the TPM only on first use.
    public init(configuration: TPMConfiguration) throws(TPMError) {
        try configuration.validate()
        // ESAPI logs expected misses (the storage key not yet persistent) to stderr; errors reach
        // callers as `TPMError`. An operator's own TSS2_LOG setting wins.
        setenv("TSS2_LOG", "all+none", 0)
        self.configuration = configuration
        esapi = try ESAPI(configuration: configuration)
    }

    deinit { close() }

    /// Flushes every transient object this context still holds and closes the connection.
    /// Later calls throw `.closed`. Calling it twice is harmless.
    public func close() {
        lock.withLock {
            esapi?.close()
            esapi = nil
        }
    }

    /// Makes sure the SRK exists at the configured handle (creating it if needed) and returns its
    /// TPM name, which identifies the key: the same name means the same SRK.
    public func prepareStorageKey() throws(TPMError) -> [UInt8] {
        try perform { esapi throws(TPMError) in
            try esapi.name(of: try esapi.ensureStorageKey(at: configuration.storageKeyHandle))
        }
    }

    /// Number of transient objects this context has loaded and not flushed (zero between
    /// operations unless a signer keeps its key loaded). The salted session kept for parameter
    /// encryption is not counted.
    public var residentObjectCount: Int {
        lock.withLock { esapi?.residentObjectCount ?? 0 }
    }

    /// Runs `body` with the open ESAPI under the lock.
    func perform<R>(_ body: (ESAPI) throws(TPMError) -> R) throws(TPMError) -> R {
        try lock.withLock { () throws(TPMError) -> R in
            guard let esapi else { throw .closed }
            return try body(esapi)
        }
    }

    /// Runs `body` with the SRK resource (ensured first) under the lock.
    func withStorageKey<R>(_ body: (ESAPI, ESYS_TR) throws(TPMError) -> R) throws(TPMError) -> R {
        try perform { esapi throws(TPMError) in
            try body(esapi, try esapi.ensureStorageKey(at: configuration.storageKeyHandle))
        }
    }
}
