import AgentCommon
import Credentials
import LwM2M
import Files

/// The configuration state file in the state directory (`configuration.json`), written
/// atomically (temp, fsync, rename, fsync dir) so a power cut leaves the old or the new
/// state. Secrets are never in it: only their names in the credential store.
public struct StateStore {
    public let directory: String
    public var path: String { "\(directory)/configuration.json" }

    /// The store of the daemon: creates the directory and removes leftovers of interrupted
    /// writes (call it only while holding the single-instance lock).
    public init(directory: String) throws(FileError) {
        self.directory = directory
        try Directory.create(directory)
        Directory.removeTemporaryFiles(in: directory)
    }

    /// A store for looking only (`lwm2m-agent state show`, `factory-reset`): creates and cleans
    /// nothing, so a look at a running daemon's directory changes nothing.
    public init(readingFrom directory: String) {
        self.directory = directory
    }

    /// What loading found.
    public enum Loaded {
        case none
        case state(ConfigurationSnapshot)
        /// The file could not be read or decoded; it was moved aside to `movedTo`, or left in
        /// place (nil) when it could not be read, could not be moved, or was only looked at.
        case unreadable(String, movedTo: String?)
    }

    /// The largest state file read (a configuration is a few KiB; this bounds a stray file).
    public static let maximumSize = 16 << 20

    /// Loads the saved configuration. A file that does not decode (written by hand, or by a
    /// buggy version) is moved aside rather than deleted, and the agent starts from the
    /// factory snapshot. Something that is not a regular file (a FIFO, a device) is refused at
    /// once, never waited on.
    public func load() -> Loaded {
        load(movingAside: true)
    }

    /// Loads the saved configuration without changing anything: an unreadable file stays where
    /// it is.
    public func peek() -> Loaded {
        load(movingAside: false)
    }

    private func load(movingAside: Bool) -> Loaded {
        let bytes: [UInt8]
        do {
            bytes = try FileReader.read(path, maximumSize: Self.maximumSize)
        } catch {
            return error.isNotFound ? .none : .unreadable("\(error)", movedTo: nil)
        }
        do {
            return .state(try ConfigurationSnapshot(decoding: bytes))
        } catch {
            guard movingAside else { return .unreadable("\(error)", movedTo: nil) }
            let aside = "\(path).unreadable"
            do {
                // The bytes read, not whatever is at the path by now; the original goes only
                // once its copy is safe.
                try AtomicFile.write(bytes, to: aside)
                try AtomicFile.remove(path)
            } catch let moveError {
                return .unreadable("\(error); could not move it aside: \(moveError)", movedTo: nil)
            }
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
