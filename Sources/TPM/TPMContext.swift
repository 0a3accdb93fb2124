import CTSS2
import Glibc

/// A connection to the TPM: the TCTI, the ESAPI context and the storage primary key (SRK).
///
/// One context serves any number of stores and signers; calls are serialised on an internal
/// lock, so the context may be shared between threads. The SRK is looked up (or created and made
/// persistent) on first use. `close()` (or releasing the last reference) flushes every transient
/// object still loaded and closes the connection.
///
/// The TPM software stack (TSS) is loaded with `dlopen` when a context first opens the ESAPI
/// context: at once with `.now` (the default), at the first operation with `.onFirstUse` (the
/// daemon: a daemon whose accounts need no secret never loads it).
///
/// ```swift
/// let tpm = try TPMContext(configuration: TPMConfiguration(stateDirectory: "/var/lib/lwm2m-agent/tpm"))
/// let secrets = TPMCredentialStore(context: tpm)
/// let keys = TPMSigningKeyStore(context: tpm)
/// ```
public final class TPMContext: @unchecked Sendable {
    /// When the ESAPI context (and with it the TSS) is opened.
    public enum Opening: Sendable {
        /// In the initialiser, which then fails when no TPM answers or the TSS cannot be loaded.
        case now
        /// At the first operation; the initialiser only checks that the transport answers
        /// (`TransportProbe`: the device node opens, swtpm accepts a connection), without loading
        /// the TSS. tabrmd, reached over D-Bus through the TSS only, is opened at once as with
        /// `.now`. An operation that cannot open the context throws that error; the next one
        /// tries again.
        case onFirstUse
    }

    private enum State {
        case unopened
        case open(ESAPI)
        case closed
    }

    /// The configuration the context was opened with.
    public let configuration: TPMConfiguration

    private let lock = ContextLock()
    private var state: State

    /// Opens the TCTI and the ESAPI context (`.now`), or checks the transport (`.onFirstUse`).
    /// Throws `.noTPM` when no TPM answers, `.stackUnavailable` when the TSS cannot be loaded
    /// (`.now` only) and `.invalidConfiguration` for a bad configuration; talks to the TPM only
    /// on first use.
    public init(configuration: TPMConfiguration, opening: Opening = .now) throws(TPMError) {
        try configuration.validate()
        // ESAPI logs expected misses (the storage key not yet persistent) to stderr; errors reach
        // callers as `TPMError`. An operator's own TSS2_LOG setting wins.
        setenv("TSS2_LOG", "all+none", 0)
        self.configuration = configuration
        switch opening {
        case .now:
            state = .open(try ESAPI(configuration: configuration))
        case .onFirstUse:
            if case .tabrmd = configuration.tcti {
                state = .open(try ESAPI(configuration: configuration))
            } else {
                try TransportProbe.check(configuration.tcti)
                state = .unopened
            }
        }
    }

    deinit { close() }

    /// Whether the ESAPI context is open (the TSS loaded): false for a context opened
    /// `.onFirstUse` until its first operation, and after `close()`.
    public var isOpen: Bool {
        lock.withLock {
            if case .open = state { return true }
            return false
        }
    }

    /// Flushes every transient object this context still holds and closes the connection.
    /// Later calls throw `.closed`. Calling it twice is harmless.
    public func close() {
        lock.withLock {
            if case .open(let esapi) = state { esapi.close() }
            state = .closed
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
        lock.withLock {
            if case .open(let esapi) = state { return esapi.residentObjectCount }
            return 0
        }
    }

    /// Runs `body` with the open ESAPI (opened first if not yet) under the lock.
    func perform<R>(_ body: (ESAPI) throws(TPMError) -> R) throws(TPMError) -> R {
        try lock.withLock { () throws(TPMError) -> R in
            switch state {
            case .open(let esapi):
                return try body(esapi)
            case .unopened:
                let esapi = try ESAPI(configuration: configuration)
                state = .open(esapi)
                return try body(esapi)
            case .closed:
                throw .closed
            }
        }
    }

    /// Runs `body` with the SRK resource (ensured first) under the lock.
    func withStorageKey<R>(_ body: (ESAPI, ESYS_TR) throws(TPMError) -> R) throws(TPMError) -> R {
        try perform { esapi throws(TPMError) in
            try body(esapi, try esapi.ensureStorageKey(at: configuration.storageKeyHandle))
        }
    }
}
