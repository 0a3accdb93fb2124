/// A manual page in roff (man(7) macros) rendered from a command's ``CommandHelp``: the same text
/// `--help` prints, so the page and the help never drift apart (a test regenerates the checked-in
/// pages and compares).
public struct ManPage: Sendable {
    /// A section after the generated ones (FILES, SEE ALSO): a heading and its paragraphs.
    public struct Section: Sendable {
        public let heading: String
        public let paragraphs: [String]
        public init(_ heading: String, _ paragraphs: [String]) {
            self.heading = heading
            self.paragraphs = paragraphs
        }
    }

    public var command: CommandHelp
    /// 1 for user commands, 8 for daemons.
    public var section: Int
    public var extraSections: [Section]

    public init(_ command: CommandHelp, section: Int, extraSections: [Section] = []) {
        self.command = command
        self.section = section
        self.extraSections = extraSections
    }

    /// The file name: `lwm2m-agent.1`.
    public var fileName: String { "\(command.name).\(section)" }

    /// The page in roff.
    public var roff: String {
        var out = ".\\\" Generated from the --help text (lwm2m-agent help --man DIR); do not edit.\n"
        out += ".TH \"\(Self.escape(command.name.uppercased()))\" \(section) \"\" \"lwm2m\\-agent\" "
            + "\"\(section == 8 ? "System Administration" : "User Commands")\"\n"
        out += ".nh\n"  // no hyphenation: options and paths are typed as printed
        out += ".SH NAME\n\(Self.escape(command.name)) \\- \(Self.escape(command.summary))\n"
        out += ".SH SYNOPSIS\n" + Self.synopsis(command)
        out += ".SH DESCRIPTION\n" + Self.paragraphs(command.description, first: true)
        if !command.options.isEmpty { out += ".SH OPTIONS\n" + Self.items(command.options) }
        let visible = command.subcommands.filter { !$0.hidden }
        if !visible.isEmpty {
            out += ".SH COMMANDS\n"
            for subcommand in visible { out += Self.commandSection(subcommand) }
        }
        if !command.exitStatus.isEmpty { out += ".SH EXIT STATUS\n" + Self.items(command.exitStatus) }
        for section in extraSections {
            out += ".SH \(Self.escape(section.heading.uppercased()))\n" + Self.paragraphs(section.paragraphs, first: true)
        }
        return out
    }

    /// A subcommand (and its own subcommands) as subsections of COMMANDS.
    static func commandSection(_ help: CommandHelp) -> String {
        var out = ".SS \"\(escape(help.name))\"\n" + synopsis(help)
        out += paragraphs([help.summary] + help.description, first: false)
        if !help.options.isEmpty { out += ".PP\nOptions:\n" + items(help.options) }
        if !help.exitStatus.isEmpty { out += ".PP\nExit status:\n" + items(help.exitStatus) }
        for subcommand in help.subcommands where !subcommand.hidden { out += commandSection(subcommand) }
        return out
    }

    static func synopsis(_ help: CommandHelp) -> String {
        help.synopsis.map { ".PP\n" + styled($0) + "\n" }.joined()
    }

    static func paragraphs(_ paragraphs: [String], first: Bool) -> String {
        paragraphs.enumerated().map { index, text in
            (index == 0 && first ? "" : ".PP\n") + escape(text) + "\n"
        }.joined()
    }

    static func items(_ items: [CommandHelp.Item]) -> String {
        items.map { ".TP\n\(styled($0.term))\n\(escape($0.text))\n" }.joined()
    }

    /// A usage line or a term: metavariables (FILE, NAME_OR_TEMPLATE) in italics, the rest bold.
    static func styled(_ text: String) -> String {
        text.split(separator: " ", omittingEmptySubsequences: false).map { token -> String in
            guard !token.isEmpty else { return "" }
            let core = token.filter { !"[]|.,()".contains($0) }
            let isMetavariable = core.contains(where: \.isLetter)
                && core.allSatisfy { ($0.isLetter && $0.isUppercase) || $0 == "_" || $0.isNumber || $0 == "-" }
            return (isMetavariable ? "\\fI" : "\\fB") + escape(String(token)) + "\\fR"
        }.joined(separator: " ")
    }

    /// Text safe for roff: backslashes and hyphens escaped, non-ASCII as \[uXXXX], no control
    /// line made by a leading dot or quote.
    public static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\e"
            case "-": out += "\\-"
            case _ where scalar.value > 126:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\[u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "]"
            default: out.unicodeScalars.append(scalar)
            }
        }
        if out.hasPrefix(".") || out.hasPrefix("'") { out = "\\&" + out }
        return out
    }
}
