import AgentCommon
import Files
import Glibc

/// The board files installed in a directory (`/usr/share/lwm2m-agent/boards`), and the choice of
/// the one this machine runs with (docs/boards.md, "How the board is chosen").
public struct BoardCatalog: Sendable {
    /// One installed board file.
    public struct Entry: Sendable, Equatable {
        /// The parsed file.
        public let definition: BoardDefinition
        /// Its path.
        public let file: String
    }

    /// Where a package installs the board files.
    public static let defaultDirectory = "/usr/share/lwm2m-agent/boards"
    /// The largest board file read.
    public static let maximumFileSize = 64 << 10

    /// The directory read.
    public let directory: String
    /// Sorted by name.
    public let entries: [Entry]

    /// Every `*.conf` file of `directory`, each checked: one bad file is an error naming it and
    /// its line. A directory that does not exist holds no board.
    public init(directory: String) throws(BoardDefinitionError) {
        self.directory = directory
        let names: [String]
        do {
            names = try Directory.list(directory)
        } catch {
            guard error.isNotFound else { throw BoardDefinitionError(file: directory, line: 0, "\(error)") }
            names = []
        }
        var entries: [Entry] = []
        for name in names where name.hasSuffix(".conf") {
            let path = Self.join(directory, name)
            let base = String(name.dropLast(5))
            guard BoardDefinition.isPlainName(base) else {
                throw BoardDefinitionError(file: path, line: 0, "a board file's name is NAME.conf with letters, digits, '.', '_' or '-'")
            }
            entries.append(Entry(definition: try Self.load(path, expectedName: base), file: path))
        }
        self.entries = entries.sorted { $0.definition.name < $1.definition.name }
    }

    /// The board file at `path`; its `[board] name` must be `expectedName` (default: the file's
    /// base name without `.conf`).
    public static func load(_ path: String, expectedName: String? = nil) throws(BoardDefinitionError) -> BoardDefinition {
        let bytes: [UInt8]
        do {
            bytes = try FileReader.read(path, maximumSize: maximumFileSize)
        } catch {
            throw BoardDefinitionError(file: path, line: 0, "cannot read the board file: \(error)")
        }
        let leaf = path.split(separator: "/").last.map(String.init) ?? path
        let base = leaf.hasSuffix(".conf") ? String(leaf.dropLast(5)) : leaf
        return try BoardDefinition(parsing: String(decoding: bytes, as: UTF8.self), file: path,
                                   expectedName: expectedName ?? base)
    }

    /// The board for this machine: `request` when given (a name in `directory` or a path), else
    /// the installed board matching `root`'s device tree (else DMI), else the generic Linux board
    /// (`directory`'s generic-linux.conf when installed, else the compiled-in copy).
    public static func select(_ request: BoardRequest?, directory: String,
                              root: SystemRoot) throws(BoardDefinitionError) -> BoardChoice {
        switch request {
        case .name(let name)?:
            let path = join(directory, name + ".conf")
            guard FileReader.exists(path) else {
                let installed = (try? BoardCatalog(directory: directory))?.entries.map(\.definition.name) ?? []
                throw BoardDefinitionError(file: path, line: 0, "no board \(quoted(name)) in \(directory)"
                                           + (installed.isEmpty ? " (no board files there)" : " (installed: \(installed.joined(separator: ", ")))"))
            }
            return BoardChoice(definition: try load(path, expectedName: name), reason: .named(name), file: path)
        case .path(let path)?:
            return BoardChoice(definition: try load(path), reason: .path(path), file: path)
        case nil:
            let catalog = try BoardCatalog(directory: directory)
            if let choice = catalog.match(root) { return choice }
            if let generic = catalog.entries.first(where: { $0.definition.name == GenericBoard.name }) {
                return BoardChoice(definition: generic.definition, reason: .generic(file: generic.file), file: generic.file)
            }
            return BoardChoice(definition: GenericBoard.definition, reason: .generic(file: nil), file: nil)
        }
    }

    /// The installed board matching `root`: by device-tree compatible (the board naming the
    /// earliest, most specific entry wins; equal ones go by name), else by DMI (the board with
    /// the most patterns, all matching, wins).
    public func match(_ root: SystemRoot) -> BoardChoice? {
        let compatible = Self.deviceTreeCompatible(root)
        let byCompatible = entries.compactMap { entry in
            Self.compatiblePosition(entry.definition, compatible).map { (entry, $0) }
        }.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0.definition.name < $1.0.definition.name }
        if let (best, position) = byCompatible.first {
            return BoardChoice(definition: best.definition,
                               reason: .compatible(entry: compatible[position], position: position,
                                                   others: byCompatible.dropFirst().map(\.0.definition.name)),
                               file: best.file)
        }
        let byDMI = entries.filter { Self.dmiMatches($0.definition, root) }
            .sorted { $0.definition.dmi.count != $1.definition.dmi.count
                ? $0.definition.dmi.count > $1.definition.dmi.count : $0.definition.name < $1.definition.name }
        if let best = byDMI.first {
            return BoardChoice(definition: best.definition,
                               reason: .dmi(patterns: best.definition.dmi.map(\.description),
                                            others: byDMI.dropFirst().map(\.definition.name)),
                               file: best.file)
        }
        return nil
    }

    /// Whether `definition` would match `root` at all (for `board list`).
    public static func matches(_ definition: BoardDefinition, _ root: SystemRoot) -> Bool {
        compatiblePosition(definition, deviceTreeCompatible(root)) != nil || dmiMatches(definition, root)
    }

    /// The entries of the device tree's root `compatible` property, most specific first; empty
    /// without a device tree (x86).
    public static func deviceTreeCompatible(_ root: SystemRoot) -> [String] {
        let entries = root.strings("/proc/device-tree/compatible")
        return entries.isEmpty ? root.strings("/sys/firmware/devicetree/base/compatible") : entries
    }

    /// The position in `compatible` of the first entry `definition` names.
    static func compatiblePosition(_ definition: BoardDefinition, _ compatible: [String]) -> Int? {
        compatible.firstIndex { definition.compatible.contains($0) }
    }

    /// Whether `definition` has DMI patterns and every one matches `/sys/class/dmi/id`.
    static func dmiMatches(_ definition: BoardDefinition, _ root: SystemRoot) -> Bool {
        !definition.dmi.isEmpty && definition.dmi.allSatisfy { pattern in
            guard let value = root.firstLine("/sys/class/dmi/id/\(pattern.key)") else { return false }
            return fnmatch(pattern.glob, value, 0) == 0
        }
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
