import CCurl
import DTLS
import DynamicLoading
import Glibc

/// libcurl, loaded with `dlopen` on the first HTTP(S) download and kept loaded (libcurl and
/// OpenSSL do not unload cleanly). Linking it instead would cost every idle agent its RSS
/// (measured on the daemon: 17.8 → 22.1 MiB, 29 more shared objects mapped).
final class CurlLibrary: @unchecked Sendable {
    /// The function pointers (never freed: the library stays loaded).
    let api: UnsafeMutablePointer<ccurl_api>

    /// The library, or why it cannot be used (not installed: Update Result 9, as for any
    /// protocol this build cannot speak). Loaded and initialised once, thread-safely.
    static let shared: Result<CurlLibrary, FirmwareDownloadError> = load()

    /// The sonames tried, in order.
    static let sonames = ["libcurl.so.4", "libcurl-gnutls.so.4", "libcurl.so"]

    private init(api: UnsafeMutablePointer<ccurl_api>) { self.api = api }

    private static func load() -> Result<CurlLibrary, FirmwareDownloadError> {
        var library: DynamicLibrary
        switch DynamicLibrary.load(sonames) {
        case .success(let loaded): library = loaded
        case .failure(let error): return .failure(.unsupportedScheme("http (libcurl cannot be loaded: \(error.reason))"))
        }
        let api = UnsafeMutablePointer<ccurl_api>.allocate(capacity: 1)
        api.initialize(to: ccurl_api())
        func bind(_ name: String) -> UnsafeMutableRawPointer? { library.symbol(name) }
        api.pointee.global_init = bind("curl_global_init")
        api.pointee.easy_init = bind("curl_easy_init")
        api.pointee.easy_cleanup = bind("curl_easy_cleanup")
        api.pointee.easy_setopt = bind("curl_easy_setopt")
        api.pointee.easy_getinfo = bind("curl_easy_getinfo")
        api.pointee.easy_strerror = bind("curl_easy_strerror")
        api.pointee.multi_init = bind("curl_multi_init")
        api.pointee.multi_cleanup = bind("curl_multi_cleanup")
        api.pointee.multi_setopt = bind("curl_multi_setopt")
        api.pointee.multi_add_handle = bind("curl_multi_add_handle")
        api.pointee.multi_remove_handle = bind("curl_multi_remove_handle")
        api.pointee.multi_socket_action = bind("curl_multi_socket_action")
        api.pointee.multi_info_read = bind("curl_multi_info_read")
        api.pointee.multi_strerror = bind("curl_multi_strerror")
        api.pointee.slist_append = bind("curl_slist_append")
        api.pointee.slist_free_all = bind("curl_slist_free_all")
        guard library.missing.isEmpty else {
            return .failure(.unsupportedScheme("http (libcurl lacks \(library.missing.joined(separator: ", ")))"))
        }
        guard ccurl_global_init(api, Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK else {
            return .failure(.unsupportedScheme("http (curl_global_init failed)"))
        }
        return .success(CurlLibrary(api: api))
    }
}
