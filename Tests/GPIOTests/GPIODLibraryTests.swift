@testable import GPIO
import Testing

/// libgpiod is dlopen'ed on the first GPIO use (`GPIODLibrary`): a library that cannot be loaded,
/// or lacks a function, is a typed `GPIOError` naming libgpiod and the reason, never a crash.
@Suite("libgpiod loaded on first use")
struct GPIODLibraryTests {
    @Test("a soname list that does not load: .libraryUnavailable with dlerror's one line naming the soname")
    func missingLibrary() {
        guard case .failure(let error) = GPIODLibrary.load(["libgpiod.so.97", "libgpiod-nor-this.so.2"]) else {
            Issue.record("a library that does not exist loaded")
            return
        }
        let reason = "libgpiod-nor-this.so.2: cannot open shared object file: No such file or directory"
        #expect(error == .libraryUnavailable(reason))
        #expect(error.description
                == "GPIO unavailable: libgpiod cannot be loaded (\(reason)); GPIO lines need the libgpiod2 package")
        #expect(!error.description.contains("\n"))
    }

    @Test("a library without libgpiod's functions: .libraryUnavailable listing every missing one")
    func missingSymbols() {
        guard case .failure(let error) = GPIODLibrary.load(["libc.so.6"]) else {
            Issue.record("libc.so.6 passed for libgpiod")
            return
        }
        guard case .libraryUnavailable(let reason) = error else {
            Issue.record("\(error)")
            return
        }
        let functions = ["version_string", "chip_open", "chip_close", "chip_name", "chip_label", "chip_num_lines",
                         "chip_find_line", "line_offset", "line_consumer", "line_direction", "line_active_state",
                         "line_is_used", "line_update", "line_get_chip", "line_request", "line_release",
                         "line_get_value", "line_set_value", "line_event_get_fd", "line_event_read_fd_multiple"]
        #expect(reason == "libc.so.6 lacks " + functions.map { "gpiod_" + $0 }.joined(separator: ", "))
    }

    @Test("the soname Debian ships loads, with every function bound")
    func installedLibraryLoads() throws {
        let api = try GPIODLibrary.functions().pointee
        let pointers = [api.version_string, api.chip_open, api.chip_close, api.chip_name, api.chip_label,
                        api.chip_num_lines, api.chip_find_line, api.line_offset, api.line_consumer,
                        api.line_direction, api.line_active_state, api.line_is_used, api.line_update,
                        api.line_get_chip, api.line_request, api.line_release, api.line_get_value,
                        api.line_set_value, api.line_event_get_fd, api.line_event_read_fd_multiple]
        #expect(pointers.count == 20 && pointers.allSatisfy { $0 != nil })
        #expect(GPIODLibrary.sonames == ["libgpiod.so.2"])
    }
}
