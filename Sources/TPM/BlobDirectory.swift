import Credentials
import Files

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One directory of blob files, `<root>/<credential id>.blob`; identifiers with `/` become
/// subdirectories. Files are written atomically with mode 0600, directories with 0700.
struct BlobDirectory {
    static let suffix = ".blob"

    let root: String

    func path(of id: CredentialID) -> String { "\(root)/\(id.rawValue)\(Self.suffix)" }

    /// Writes a blob atomically, creating the directories on the way.
    func write(_ bytes: [UInt8], for id: CredentialID) throws(TPMError) {
        let path = path(of: id)
        do throws(FileError) {
            try Directory.create(String(path[..<path.lastIndex(of: "/")!]))
            try AtomicFile.write(bytes, to: path, mode: 0o600)
        } catch {
            throw .storage(error.description)
        }
    }

    /// The blob of `id`, or nil if there is none.
    func read(_ id: CredentialID) throws(TPMError) -> [UInt8]? {
        do throws(FileError) {
            return try FileReader.read(path(of: id))
        } catch {
            if error.isNotFound { return nil }
            throw .storage(error.description)
        }
    }

    /// Deletes the blob of `id` (absent is fine) and any directories that become empty.
    func remove(_ id: CredentialID) throws(TPMError) {
        do throws(FileError) {
            try AtomicFile.remove(path(of: id))
        } catch {
            throw .storage(error.description)
        }
        var directory = id.rawValue
        while let slash = directory.lastIndex(of: "/") {
            directory = String(directory[..<slash])
            if rmdir("\(root)/\(directory)") != 0 { break }
        }
    }

    /// Every identifier with a blob, sorted; an absent root means none.
    func identifiers() throws(TPMError) -> [CredentialID] {
        guard FileReader.exists(root) else { return [] }
        var found: [CredentialID] = []
        try collect(relative: "", into: &found)
        return found.sorted()
    }

    private func collect(relative: String, into found: inout [CredentialID]) throws(TPMError) {
        let directory = relative.isEmpty ? root : "\(root)/\(relative)"
        let names: [String]
        do throws(FileError) {
            names = try Directory.list(directory)
        } catch {
            throw .storage(error.description)
        }
        for name in names where !name.includes(".tmp-") {
            let relativeName = relative.isEmpty ? name : "\(relative)/\(name)"
            var info = stat()
            guard stat("\(directory)/\(name)", &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFDIR {
                try collect(relative: relativeName, into: &found)
            } else if relativeName.hasSuffix(Self.suffix),
                      let id = CredentialID(String(relativeName.dropLast(Self.suffix.count))) {
                found.append(id)
            }
        }
    }
}
