import AgentCommon

/// The board asked for by `[agent] board = NAME|PATH` or `--board`: a name in the board
/// directory, or a board file's absolute path.
public enum BoardRequest: Sendable, Equatable, CustomStringConvertible {
    /// `<board-dir>/NAME.conf`.
    case name(String)
    /// That file.
    case path(String)

    /// `value` checked: a plain name (letters, digits, `.`, `_`, `-`), or an absolute path
    /// ending in `.conf`. The error text says what was expected.
    public init(parsing value: String) throws(BoardRequestError) {
        if value.hasPrefix("/") {
            guard value.hasSuffix(".conf"), value.utf8.count > 6, !value.hasSuffix("/.conf") else {
                throw BoardRequestError("board \(quoted(value)): a board file's path ends in .conf")
            }
            self = .path(value)
        } else if BoardDefinition.isPlainName(value), !value.hasSuffix(".conf") {
            self = .name(value)
        } else {
            throw BoardRequestError("board \(quoted(value)): expected a board name (raspberrypi-4-slb9670) or the absolute path of a .conf file")
        }
    }

    public var description: String {
        switch self {
        case .name(let name): name
        case .path(let path): path
        }
    }
}

/// Why a `board` value was refused.
public struct BoardRequestError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}
