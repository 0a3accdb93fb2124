import CGnuTLS
import DTLS
import DynamicLoading
import Glibc

/// GnuTLS, loaded with `dlopen` when the first raw-public-key session is made and kept loaded
/// (GnuTLS does not unload cleanly). Linking it would map libgnutls and its eight dependencies
/// (nettle, hogweed, gmp, p11-kit, idn2, unistring, tasn1, ffi) into every agent and run
/// GnuTLS's load-time initialisation, whether or not an account uses raw public keys.
final class GnuTLSLibrary: @unchecked Sendable {
    /// The function pointers (never freed: the library stays loaded).
    let api: UnsafeMutablePointer<cgnutls_api>
    /// The run-time version (`gnutls_check_version(NULL)`).
    let version: String

    /// The library, or why it cannot be used. Loaded once, thread-safely (a Swift global).
    static let shared: Result<GnuTLSLibrary, DTLSError> = load()

    /// The sonames tried, in order (Debian bookworm: libgnutls30, GnuTLS 3.7).
    static let sonames = ["libgnutls.so.30", "libgnutls.so"]
    /// Raw public keys over DTLS 1.2 (RFC 7250) arrived in GnuTLS 3.6.6.
    static let minimumVersion = "3.6.6"

    private init(api: UnsafeMutablePointer<cgnutls_api>, version: String) {
        self.api = api
        self.version = version
    }

    private static func load() -> Result<GnuTLSLibrary, DTLSError> {
        var library: DynamicLibrary
        switch DynamicLibrary.load(sonames) {
        case .success(let loaded): library = loaded
        case .failure(let error):
            return .failure(.backendUnavailable("GnuTLS cannot be loaded (\(error.reason)): raw public keys need libgnutls30"))
        }
        let api = UnsafeMutablePointer<cgnutls_api>.allocate(capacity: 1)
        api.initialize(to: cgnutls_api())
        func bind(_ name: String) -> UnsafeMutableRawPointer? { library.symbol("gnutls_" + name) }
        api.pointee.check_version = bind("check_version")
        api.pointee.strerror = bind("strerror")
        api.pointee.error_is_fatal = bind("error_is_fatal")
        api.pointee.alert_get = bind("alert_get")
        api.pointee.alert_get_name = bind("alert_get_name")
        api.pointee.`init` = bind("init")
        api.pointee.deinit = bind("deinit")
        api.pointee.priority_set_direct = bind("priority_set_direct")
        api.pointee.credentials_set = bind("credentials_set")
        api.pointee.server_name_set = bind("server_name_set")
        api.pointee.session_set_ptr = bind("session_set_ptr")
        api.pointee.session_get_ptr = bind("session_get_ptr")
        api.pointee.certificate_allocate_credentials = bind("certificate_allocate_credentials")
        api.pointee.certificate_free_credentials = bind("certificate_free_credentials")
        api.pointee.certificate_set_key = bind("certificate_set_key")
        api.pointee.certificate_set_verify_function = bind("certificate_set_verify_function")
        api.pointee.certificate_type_get2 = bind("certificate_type_get2")
        api.pointee.certificate_get_peers = bind("certificate_get_peers")
        api.pointee.pcert_import_rawpk_raw = bind("pcert_import_rawpk_raw")
        api.pointee.pcert_deinit = bind("pcert_deinit")
        api.pointee.privkey_init = bind("privkey_init")
        api.pointee.privkey_deinit = bind("privkey_deinit")
        api.pointee.privkey_import_ext4 = bind("privkey_import_ext4")
        api.pointee.transport_set_ptr = bind("transport_set_ptr")
        api.pointee.transport_set_push_function = bind("transport_set_push_function")
        api.pointee.transport_set_pull_function = bind("transport_set_pull_function")
        api.pointee.transport_set_pull_timeout_function = bind("transport_set_pull_timeout_function")
        api.pointee.transport_set_errno = bind("transport_set_errno")
        api.pointee.dtls_set_timeouts = bind("dtls_set_timeouts")
        api.pointee.dtls_set_mtu = bind("dtls_set_mtu")
        api.pointee.dtls_get_timeout = bind("dtls_get_timeout")
        api.pointee.handshake = bind("handshake")
        api.pointee.record_send = bind("record_send")
        api.pointee.record_recv = bind("record_recv")
        api.pointee.bye = bind("bye")
        api.pointee.cipher_get = bind("cipher_get")
        api.pointee.kx_get = bind("kx_get")
        api.pointee.mac_get = bind("mac_get")
        api.pointee.cipher_suite_get_name = bind("cipher_suite_get_name")
        api.pointee.malloc_pointer = bind("malloc")
        guard library.missing.isEmpty else {
            return .failure(.backendUnavailable("GnuTLS lacks \(library.missing.joined(separator: ", "))"))
        }
        let version = cgnutls_check_version(api, nil).map { String(cString: $0) } ?? "unknown"
        guard cgnutls_check_version(api, minimumVersion) != nil else {
            return .failure(.backendUnavailable("GnuTLS \(version) is older than \(minimumVersion) (no raw public keys)"))
        }
        return .success(GnuTLSLibrary(api: api, version: version))
    }
}
