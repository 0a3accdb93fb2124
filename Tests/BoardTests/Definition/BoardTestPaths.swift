import Board
import Glibc

/// Paths of the repository the tests read: board/, overlays/, Tests/BoardTests/Fixtures/.
enum BoardTestPaths {
    /// The repository root, from this file's path (Tests/BoardTests/Definition/…).
    static let repository: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(4)
        return parts.joined(separator: "/")
    }()

    static let boards = repository + "/board"

    /// The fixture tree `name` (a copy of a machine's /proc and /sys files).
    static func fixture(_ name: String) -> SystemRoot {
        SystemRoot(repository + "/Tests/BoardTests/Fixtures/" + name)
    }

    /// A fresh directory holding `files` (name → content).
    static func directory(_ files: [String: String]) -> String {
        var template = Array("/tmp/lwm2m-boards-XXXXXX".utf8CString)
        let directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        for (name, content) in files {
            let file = fopen(directory + "/" + name, "w")!
            fputs(content, file)
            fclose(file)
        }
        return directory
    }

    /// The text of `path`.
    static func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
