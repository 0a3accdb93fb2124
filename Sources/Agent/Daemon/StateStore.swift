import Credentials
import LwM2M
import Storage

/// The configuration state file in the state directory (`configuration.json`), written
/// atomically (temp, fsync, rename, fsync dir) so a power cut leaves the old or the new
/// state. Secrets are never in it: only their names in the credential store.
public struct StateStore {
    public let directory: String
    public var path: String { "\(directory)/configuration.json" }

    public init(directory: String) throws(FileError) {
        self.directory = directory
        try AtomicFile.createDirectory(directory)
        AtomicFile.removeTemporaryFiles(in: directory)
    }

    /// What loading found.
    public enum Loaded {
        case none
        case state(ConfigurationSnapshot)
        /// The file could not be decoded; it was moved aside to `movedTo`.
        case unreadable(String, movedTo: String)
    }

    /// Loads the saved configuration. A file that does not decode (written by hand, or by a
    /// buggy version) is moved aside rather than deleted, and the agent starts from the
    /// factory snapshot.
    public func load() -> Loaded {
        let bytes: [UInt8]
        do {
            bytes = try AtomicFile.read(path)
        } catch {
            return error.isNotFound ? .none : .unreadable("\(error)", movedTo: "")
        }
        do {
            return .state(try ConfigurationSnapshot(decoding: bytes))
        } catch {
            let aside = "\(path).unreadable"
            try? AtomicFile.write(bytes, to: aside)
            try? AtomicFile.remove(path)
            return .unreadable("\(error)", movedTo: aside)
        }
    }

    /// Saves `state`.
    public func save(_ state: ConfigurationSnapshot) throws(FileError) {
        try AtomicFile.write(state.encoded(), to: path)
    }

    /// Removes the saved configuration (factory reset from the command line).
    public func remove() throws(FileError) {
        try AtomicFile.remove(path)
    }
}
