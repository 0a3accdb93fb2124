import CGPIOD
import DynamicLoading

/// libgpiod v1, loaded with `dlopen` on the first GPIO use (the first line looked up, requested
/// or listed) and kept loaded. Linking it would map and relocate libgpiod in every agent at start,
/// whether or not its board names a GPIO line (issue 17).
///
/// Every libgpiod call of this module goes through ``api`` (the `cgpiod_*` wrappers of CGPIOD's
/// shim).
final class GPIODLibrary: @unchecked Sendable {
    /// The function pointers (never freed: the library stays loaded).
    let api: UnsafePointer<cgpiod_api>

    /// The library, or why it cannot be used. Loaded once, thread-safely (a Swift global).
    static let shared: Result<GPIODLibrary, GPIOError> = load(sonames)

    /// What Debian bookworm ships (libgpiod2, libgpiod 1.6). The versioned name only: libgpiod.so
    /// may be v2's (libgpiod.so.3), a different API under the same function names.
    static let sonames = ["libgpiod.so.2"]

    private init(api: UnsafePointer<cgpiod_api>) { self.api = api }

    /// The loaded library's functions; throws `.libraryUnavailable` when it or a symbol is missing.
    static func functions() throws(GPIOError) -> UnsafePointer<cgpiod_api> {
        try shared.get().api
    }

    /// Loads the first of `sonames` that opens and binds every function of `cgpiod_api`.
    /// Internal (not `private`) so a test can load a soname list that does not exist.
    static func load(_ sonames: [String]) -> Result<GPIODLibrary, GPIOError> {
        var library: DynamicLibrary
        switch DynamicLibrary.load(sonames) {
        case .success(let loaded): library = loaded
        case .failure(let error): return .failure(.libraryUnavailable(error.reason))
        }
        var api = cgpiod_api()
        func bind(_ name: String) -> UnsafeMutableRawPointer? { library.symbol("gpiod_" + name) }
        api.version_string = bind("version_string")
        api.chip_open = bind("chip_open")
        api.chip_close = bind("chip_close")
        api.chip_name = bind("chip_name")
        api.chip_label = bind("chip_label")
        api.chip_num_lines = bind("chip_num_lines")
        api.chip_find_line = bind("chip_find_line")
        api.line_offset = bind("line_offset")
        api.line_consumer = bind("line_consumer")
        api.line_direction = bind("line_direction")
        api.line_active_state = bind("line_active_state")
        api.line_is_used = bind("line_is_used")
        api.line_update = bind("line_update")
        api.line_get_chip = bind("line_get_chip")
        api.line_request = bind("line_request")
        api.line_release = bind("line_release")
        api.line_get_value = bind("line_get_value")
        api.line_set_value = bind("line_set_value")
        api.line_event_get_fd = bind("line_event_get_fd")
        api.line_event_read_fd_multiple = bind("line_event_read_fd_multiple")
        guard library.missing.isEmpty else {
            let opened = sonames.joined(separator: " or ")
            return .failure(.libraryUnavailable("\(opened) lacks \(library.missing.joined(separator: ", "))"))
        }
        let stored = UnsafeMutablePointer<cgpiod_api>.allocate(capacity: 1)
        stored.initialize(to: api)
        return .success(GPIODLibrary(api: UnsafePointer(stored)))
    }
}
