import Files

/// The states of the `persist = yes` outputs (docs/boards.md "GPIO"), so a relay comes back
/// after an agent restart as a server last set it: `<state-dir>/gpio-outputs`, one line per
/// output, `NAME STATE POLARITY` (`relay1 1 0`), written atomically after every change.
///
/// A damaged file is not fatal: the lines that parse are used, the others are named in
/// ``problems`` and their outputs start from the board's `initial`.
public struct OutputStates: Equatable, Sendable {
    /// A saved output: its Digital Output State (5550) and Polarity (5551).
    public struct Saved: Equatable, Sendable {
        public var state: Bool
        public var polarity: Bool

        public init(state: Bool, polarity: Bool) {
            self.state = state
            self.polarity = polarity
        }
    }

    /// The file's path.
    public let path: String
    /// By `[gpio NAME]` name.
    public private(set) var saved: [String: Saved] = [:]
    /// What could not be read (a line that does not parse, an unreadable file).
    public private(set) var problems: [String] = []

    /// The file in `stateDirectory`, read now (none yet: empty).
    public init(stateDirectory: String) {
        let path = stateDirectory + "/gpio-outputs"
        do {
            let bytes = try FileReader.read(path, maximumSize: 64 * 1024)
            self.init(path: path, parsing: String(decoding: bytes, as: UTF8.self))
        } catch {
            self.init(path: path, parsing: "")
            if !error.isNotFound { problems.append("\(path): \(error)") }
        }
    }

    /// The states in `text` (the file's content), for `path`.
    public init(path: String, parsing text: String) {
        self.path = path
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = line.split(separator: " ")
            if fields.isEmpty { continue }
            guard fields.count == 3, let state = Self.bit(fields[1]), let polarity = Self.bit(fields[2]) else {
                problems.append("\(path): line \(index + 1): expected NAME STATE POLARITY (0 or 1 each)")
                continue
            }
            saved[String(fields[0])] = Saved(state: state, polarity: polarity)
        }
    }

    /// Records `name`'s state and writes the file (atomically: temp file, fsync, rename).
    public mutating func save(_ name: String, _ value: Saved) throws(FileError) {
        saved[name] = value
        try AtomicFile.write(Array(encoded().utf8), to: path, mode: 0o644)
    }

    /// The file's content: one line per output, sorted by name.
    public func encoded() -> String {
        saved.keys.sorted().map { name in
            let value = saved[name]!
            return "\(name) \(value.state ? 1 : 0) \(value.polarity ? 1 : 0)\n"
        }.joined()
    }

    private static func bit(_ field: Substring) -> Bool? {
        switch field {
        case "0": false
        case "1": true
        default: nil
        }
    }
}
