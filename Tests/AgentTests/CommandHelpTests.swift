import AgentCommon
import AgentDaemon
import Testing

/// `CommandHelp` (the --help text) and `ManPage` (the same help as roff).
@Suite struct CommandHelpTests {
    static let sample = CommandHelp(
        name: "tool group sub",
        summary: "does a thing",
        synopsis: ["tool group sub FILE [--flag]", "tool group sub --help"],
        description: [".starts with a dot", "a back\\slash, a - hyphen and a \u{2026} ellipsis"],
        options: [.init("--value N", "takes a value"), .init("--flag", "takes none"),
                  .init("--a-very-long-option-name LONG_VALUE", String(repeating: "word ", count: 40))],
        exitStatus: [.init("0", "done"), .init("2", "usage error")],
        subcommands: [CommandHelp(name: "tool group sub leaf", summary: "a leaf", synopsis: ["tool group sub leaf"]),
                      CommandHelp(name: "tool group sub secret", summary: "hidden", synopsis: ["x"], hidden: true)])

    @Test func helpFlagAnywhereButAsAnOptionValue() {
        #expect(Self.sample.asksForHelp(["--help"]))
        #expect(Self.sample.asksForHelp(["FILE", "-h"]))
        #expect(Self.sample.asksForHelp(["--flag", "--help"]))
        #expect(Self.sample.asksForHelp(["--value", "3", "-h"]))
        #expect(!Self.sample.asksForHelp(["--value", "-h"]))
        #expect(!Self.sample.asksForHelp(["--value", "--help", "FILE"]))
        #expect(!Self.sample.asksForHelp(["FILE", "--flag"]))
        #expect(!Self.sample.asksForHelp([]))
    }

    /// The daemon's start checks for a help word before building its help text.
    @Test func aHelpWordIsMentionedEvenAsAnOptionValue() {
        #expect(CommandHelp.mentionsHelp(["--value", "-h"]))
        #expect(CommandHelp.mentionsHelp(["FILE", "--help"]))
        #expect(!CommandHelp.mentionsHelp(["--config", "agent.conf", "--log-level", "debug"]))
        #expect(!CommandHelp.mentionsHelp(["--helpful", "-hh"]))
        #expect(!CommandHelp.mentionsHelp([]))
    }

    @Test func textHasUsageOptionsSubcommandsAndExitStatusWithinSeventyEightColumns() {
        let text = Self.sample.text
        #expect(text.hasPrefix("usage: tool group sub FILE [--flag]\n       tool group sub --help\n\ndoes a thing\n"))
        #expect(text.contains("\n  --value N               takes a value\n"))
        #expect(text.contains("\n  --a-very-long-option-name LONG_VALUE\n                          word word"))
        #expect(text.contains("\nsubcommands (each answers --help):\n  leaf"))
        #expect(!text.contains("secret"))
        #expect(text.contains("\nexit status:\n  0                       done\n"))
        for line in text.split(separator: "\n") { #expect(line.count <= 78, "\(line)") }
        #expect(Self.sample.subcommand("leaf")?.name == "tool group sub leaf")
        #expect(Self.sample.subcommand("sub") == nil)
    }

    @Test func roffEscapes() {
        #expect(ManPage.escape("a-b") == "a\\-b")
        #expect(ManPage.escape("back\\slash") == "back\\eslash")
        #expect(ManPage.escape(".TH x") == "\\&.TH x")
        #expect(ManPage.escape("'quote") == "\\&'quote")
        #expect(ManPage.escape("\u{2026}") == "\\[u2026]")
        #expect(ManPage.escape("plain text") == "plain text")
    }

    @Test func pageStructure() {
        let roff = ManPage(Self.sample, section: 1, extraSections: [.init("See also", ["other(8)"])]).roff
        let lines = roff.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.contains(".TH \"TOOL GROUP SUB\" 1 \"\" \"lwm2m\\-agent\" \"User Commands\""))
        #expect(roff.contains("\"User Commands\"\n.nh\n.SH NAME\ntool group sub \\- does a thing\n.SH SYNOPSIS\n"))
        #expect(roff.contains(".TP\n\\fB\\-\\-value\\fR \\fIN\\fR\ntakes a value\n"))
        #expect(roff.contains("\\fBtool\\fR \\fBgroup\\fR \\fBsub\\fR \\fIFILE\\fR \\fB[\\-\\-flag]\\fR"))
        #expect(roff.contains(".SH COMMANDS\n.SS \"tool group sub leaf\"\n"))
        #expect(!roff.contains("secret"))
        #expect(roff.contains(".SH EXIT STATUS\n.TP\n\\fB0\\fR\ndone\n"))
        #expect(roff.contains(".SH SEE ALSO\nother(8)\n"))
        // Only known man(7) macros start a line; no bare hyphen, no non-ASCII byte.
        let macros: Set<Substring> = [".\\\"", ".TH", ".nh", ".SH", ".SS", ".PP", ".TP"]
        for line in lines where line.hasPrefix(".") || line.hasPrefix("'") {
            #expect(macros.contains(line.split(separator: " ").first ?? ""), "\(line)")
        }
        for line in lines where !line.hasPrefix(".\\\"") {
            #expect(!line.split(separator: "\\-", omittingEmptySubsequences: false).joined().contains("-"), "\(line)")
        }
        #expect(roff.utf8.allSatisfy { $0 < 128 })
    }

    @Test func daemonPageIsSectionEightAndNamesItsOptions() {
        let page = DaemonHelp.manPage
        #expect(page.fileName == "lwm2m-agentd.8")
        for option in ["\\-\\-config", "\\-\\-log\\-level", "\\-\\-version", "SIGHUP", "SIGUSR1"] {
            #expect(page.roff.contains(option), "\(option)")
        }
        #expect(DaemonHelp.help.asksForHelp(["-h"]))
        #expect(!DaemonHelp.help.asksForHelp(["--config", "-h"]))
    }
}
