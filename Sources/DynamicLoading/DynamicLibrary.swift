import Glibc

/// A C library loaded with `dlopen` on first use and never unloaded (the GnuTLS backend's
/// libgnutls, the firmware downloader's libcurl, the TPM module's tss2 libraries, the GPIO
/// module's libgpiod), and the symbols bound from it.
///
/// A module of its own, on Glibc alone: it used to live in DTLS (the first two libraries loaded
/// this way are reached through it), but the hardware layers (TPM, GPIO) need it too and nothing
/// else of DTLS; depending on DTLS would have put mbedTLS and the credential protocols under the
/// GPIO lines.
public struct DynamicLibrary {
    /// Why no soname could be loaded: the last `dlerror()` text.
    public struct LoadError: Error, Equatable, Sendable {
        /// `dlerror()`'s words for the last soname tried.
        public let reason: String
    }

    /// The `dlopen` handle (never closed).
    public let handle: UnsafeMutableRawPointer
    /// The symbols ``symbol(_:)`` asked for and did not find, in order.
    public private(set) var missing: [String] = []

    /// Loads the first of `sonames` that `dlopen` (`RTLD_NOW | RTLD_LOCAL`) accepts.
    public static func load(_ sonames: [String]) -> Result<DynamicLibrary, LoadError> {
        var why = ""
        for name in sonames {
            if let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) { return .success(DynamicLibrary(handle: handle)) }
            if let error = dlerror() { why = String(cString: error) }
        }
        return .failure(LoadError(reason: why))
    }

    private init(handle: UnsafeMutableRawPointer) { self.handle = handle }

    /// The address of `name`, or `nil` (and `name` added to ``missing``).
    public mutating func symbol(_ name: String) -> UnsafeMutableRawPointer? {
        let symbol = dlsym(handle, name)
        if symbol == nil { missing.append(name) }
        return symbol
    }
}
