/// The board the agent runs with, and why it was chosen.
public struct BoardChoice: Sendable, Equatable {
    /// Why this board.
    public enum Reason: Sendable, Equatable, CustomStringConvertible {
        /// `board = NAME` (agent.conf or --board).
        case named(String)
        /// `board = /path/file.conf`.
        case path(String)
        /// The entry at `position` of /proc/device-tree/compatible (0: the most specific) is in
        /// the board's `compatible`; `others` matched less specifically or equally (then lost on
        /// the name order).
        case compatible(entry: String, position: Int, others: [String])
        /// Every `dmi` pattern of the board matched; `others` matched with fewer patterns.
        case dmi(patterns: [String], others: [String])
        /// Nothing matched: the generic Linux board, from `file` (nil: the compiled-in copy).
        case generic(file: String?)

        public var description: String {
            switch self {
            case .named(let name): "board = \(name) (configured)"
            case .path(let path): "board = \(path) (configured)"
            case .compatible(let entry, let position, let others):
                "/proc/device-tree/compatible entry \(position) \"\(entry)\" is in its compatible list"
                    + (others.isEmpty ? "" : " (also matched: \(others.joined(separator: ", ")))")
            case .dmi(let patterns, let others):
                "DMI matched \(patterns.joined(separator: " "))"
                    + (others.isEmpty ? "" : " (also matched: \(others.joined(separator: ", ")))")
            case .generic(let file):
                "no board file matched this machine's device tree or DMI: the generic Linux board ("
                    + (file ?? "compiled in") + ")"
            }
        }
    }

    /// The board.
    public let definition: BoardDefinition
    /// Why it was chosen (logged at start, printed by `board show`).
    public let reason: Reason
    /// The board file read; nil for the compiled-in generic board.
    public let file: String?

    public init(definition: BoardDefinition, reason: Reason, file: String?) {
        self.definition = definition
        self.reason = reason
        self.file = file
    }
}
