#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Directories of state files: created with their parents, listed, cleaned of interrupted writes.
public enum Directory {
    /// Creates `path` and its missing parents with `mode` (0700 by default).
    public static func create(_ path: String, mode: mode_t = 0o700) throws(FileError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, mode) != 0 && errno != EEXIST {
                throw FileError(operation: "mkdir", path: prefix, errno: errno)
            }
            prefix += "/"
        }
    }

    /// The names in directory `path` (without `.` and `..`), sorted.
    public static func list(_ path: String) throws(FileError) -> [String] {
        guard let directory = opendir(path) else {
            throw FileError(operation: "opendir", path: path, errno: errno)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Removes leftovers of interrupted writes (`*.tmp-<pid>`) in `directory`.
    public static func removeTemporaryFiles(in directory: String) {
        guard let names = try? list(directory) else { return }
        for name in names where name.includes(".tmp-") {
            unlink("\(directory)/\(name)")
        }
    }
}
