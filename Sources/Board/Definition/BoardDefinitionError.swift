import AgentCommon

/// Why a board file (or the board choice) was refused: names the file and, when it is about a
/// line of it, the line.
public struct BoardDefinitionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The board file (or directory) concerned.
    public let file: String
    /// The line in `file`, 0 when the error is about the file as a whole.
    public let line: Int
    /// What is wrong, for people.
    public let message: String

    public init(file: String, line: Int, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { line > 0 ? "\(file): line \(line): \(message)" : "\(file): \(message)" }
}
