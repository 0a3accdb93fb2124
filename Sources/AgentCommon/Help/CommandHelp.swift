/// The help of one command: what `--help` prints and what the manual page says, from the same
/// value (``text`` here, ``ManPage`` for roff), so the two never drift apart.
///
/// A command with `subcommands` is a group (`lwm2m-agent factory`): its help lists them, and each
/// subcommand has its own help (`lwm2m-agent factory set-endpoint --help`).
public struct CommandHelp: Sendable {
    /// A term and its explanation: an option (`--config FILE`), an exit status (`2`).
    public struct Item: Sendable {
        public let term: String
        public let text: String
        public init(_ term: String, _ text: String) {
            self.term = term
            self.text = text
        }
    }

    /// The full command name, e.g. `lwm2m-agent factory set-endpoint`.
    public var name: String
    /// One line: what the command does.
    public var summary: String
    /// Usage lines, each starting with the command name.
    public var synopsis: [String]
    /// Paragraphs of plain text (no markup; the renderers wrap them).
    public var description: [String]
    /// Options and operands; a term whose first word starts with "--" and has a second word
    /// (`--config FILE`) names an option that takes a value.
    public var options: [Item]
    /// Exit statuses and what they mean.
    public var exitStatus: [Item]
    /// The subcommands of a group, each with its own help.
    public var subcommands: [CommandHelp]
    /// Left out of the overview and the manual page (bring-up and test commands).
    public var hidden: Bool

    public init(name: String, summary: String, synopsis: [String], description: [String] = [],
                options: [Item] = [], exitStatus: [Item] = [], subcommands: [CommandHelp] = [],
                hidden: Bool = false) {
        self.name = name
        self.summary = summary
        self.synopsis = synopsis
        self.description = description
        self.options = options
        self.exitStatus = exitStatus
        self.subcommands = subcommands
        self.hidden = hidden
    }

    /// The last word of the name: how the command is typed after its parent (`set-endpoint`).
    public var word: String { String(name.split(separator: " ").last ?? "") }

    /// The help text `--help` prints on standard output.
    public var text: String {
        var out = "usage: " + synopsis.joined(separator: "\n       ") + "\n\n"
        out += Self.wrap(summary, indent: 0) + "\n"
        for paragraph in description { out += "\n" + Self.wrap(paragraph, indent: 0) + "\n" }
        let visible = subcommands.filter { !$0.hidden }
        if !visible.isEmpty {
            out += name.contains(" ") ? "\nsubcommands (each answers --help):\n" : "\ncommands (each answers --help):\n"
            out += Self.table(visible.map { Item($0.word, $0.summary) })
        }
        if !options.isEmpty { out += "\noptions:\n" + Self.table(options) }
        if !exitStatus.isEmpty { out += "\nexit status:\n" + Self.table(exitStatus) }
        return out
    }

    /// Whether `arguments` ask for help: `--help` or `-h` anywhere, except as the value of an
    /// option that takes one (`--payload -h` sends "-h").
    public func asksForHelp(_ arguments: [String]) -> Bool {
        guard Self.mentionsHelp(arguments) else { return false }
        let valueOptions = Set(allOptions.compactMap { item -> String? in
            let words = item.term.split(separator: " ")
            guard words.count >= 2, words[0].hasPrefix("--") else { return nil }
            return String(words[0])
        })
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--help" || argument == "-h" { return true }
            if valueOptions.contains(argument) { index += 1 }  // its value follows
            index += 1
        }
        return false
    }

    /// Whether `--help` or `-h` is among `arguments` at all: without either, no command's
    /// ``asksForHelp(_:)`` is true, and the option table need not be built (a daemon's start).
    public static func mentionsHelp(_ arguments: [String]) -> Bool {
        arguments.contains { $0 == "--help" || $0 == "-h" }
    }

    /// This command's options and those of its subcommands.
    var allOptions: [Item] { options + subcommands.flatMap(\.allOptions) }

    /// The subcommand typed as `word`, if any.
    public func subcommand(_ word: String) -> CommandHelp? { subcommands.first { $0.word == word } }

    /// Two columns: terms up to 24 characters share their line with the text.
    static func table(_ items: [Item]) -> String {
        var out = ""
        for item in items {
            let term = "  " + item.term
            if term.count <= 24 {
                let padded = term + String(repeating: " ", count: 26 - term.count)
                out += padded + wrap(item.text, indent: 26).dropFirst(26) + "\n"
            } else {
                out += term + "\n" + wrap(item.text, indent: 26) + "\n"
            }
        }
        return out
    }

    /// `text` wrapped at 78 columns, every line indented by `indent` spaces.
    static func wrap(_ text: String, indent: Int) -> String {
        let margin = String(repeating: " ", count: indent)
        var lines: [String] = []
        var line = margin
        for word in text.split(separator: " ") {
            if line.count > indent, line.count + 1 + word.count > 78 {
                lines.append(line)
                line = margin
            }
            line += (line.count > indent ? " " : "") + word
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }
}
