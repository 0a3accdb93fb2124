// Logger output is captured by pointing file descriptor 2 at a pipe for the duration of the
// logging calls. Other tests may write to standard error in that window: their bytes are
// separated from ours (our components all start with "logtest-") and written back.
import AgentCommon
import AgentDaemon
import AgentCLI
import AgentDemo
import Glibc
import Synchronization
import Testing

private let captureLock = Mutex<Void>(())

/// Runs `body` with standard error redirected to a pipe; returns the lines our loggers wrote
/// (components starting with "logtest-") joined, and passes every other byte on to the real
/// standard error.
private func captureLogLines(_ body: () -> Void) -> String {
    captureLock.withLock { _ in
        var ends: [Int32] = [-1, -1]
        precondition(pipe(&ends) == 0, "pipe failed")
        let saved = dup(2)
        precondition(saved >= 0, "dup failed")
        dup2(ends[1], 2)
        body()
        dup2(saved, 2)
        close(saved)
        close(ends[1])
        var captured: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(ends[0], $0.baseAddress, $0.count) }
            if count > 0 {
                captured += chunk[0..<count]
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        close(ends[0])

        var ours = ""
        var others: [UInt8] = []
        for line in captured.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
            let text = String(decoding: line, as: UTF8.self)
            if text.hasPrefix("<"), let close = text.firstIndex(of: ">"),
               text[text.index(after: close)...].hasPrefix("logtest-") {
                ours += text + "\n"
            } else {
                others += line + [UInt8(ascii: "\n")]
            }
        }
        if let last = captured.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).last {
            others += last  // an unterminated tail belongs to someone else
        }
        if !others.isEmpty {
            _ = others.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        }
        return ours
    }
}

/// Counts how often a message was built.
private final class Evaluations: @unchecked Sendable {
    var count = 0
    func message(_ text: String) -> String {
        count += 1
        return text
    }
}

@Suite(.serialized) struct LoggerTests {
    @Test func infoLineHasTheJournaldPrefixAndDebugIsSuppressed() {
        let log = Logger(component: "logtest-a", level: .info)
        let output = captureLogLines {
            log.info("hello")
            log.debug("hidden detail")
        }
        #expect(output == "<6>logtest-a: hello\n")
    }

    @Test func everyLevelUsesItsPriorityNumber() {
        let log = Logger(component: "logtest-b", level: .debug)
        let output = captureLogLines {
            log.error("e")
            log.warning("w")
            log.notice("n")
            log.info("i")
            log.debug("d")
        }
        #expect(output == "<3>logtest-b: e\n<4>logtest-b: w\n<5>logtest-b: n\n<6>logtest-b: i\n<7>logtest-b: d\n")
    }

    @Test func warningLevelKeepsOnlyErrorsAndWarnings() {
        var log = Logger(component: "logtest-c", level: .warning)
        let output = captureLogLines {
            log.error("broken")
            log.warning("careful")
            log.notice("fyi")
            log.info("chatter")
            log.debug("noise")
        }
        #expect(output == "<3>logtest-c: broken\n<4>logtest-c: careful\n")

        log.level = .notice
        let louder = captureLogLines { log.notice("now shown") }
        #expect(louder == "<5>logtest-c: now shown\n")
    }

    @Test func suppressedMessagesAreNotBuilt() {
        let log = Logger(component: "logtest-d", level: .error)
        let evaluations = Evaluations()
        let output = captureLogLines {
            log.debug(evaluations.message("expensive"))
            log.info(evaluations.message("expensive"))
            log.warning(evaluations.message("expensive"))
            log.error(evaluations.message("shown"))
        }
        #expect(evaluations.count == 1)
        #expect(output == "<3>logtest-d: shown\n")
    }

    @Test func defaultLevelIsInfo() {
        let log = Logger(component: "logtest-e")
        #expect(log.level == .info)
        #expect(log.component == "logtest-e")
    }

    @Test(arguments: [
        ("error", LogLevel.error), ("ERROR", .error), ("warning", .warning), ("warn", .warning), ("Warn", .warning),
        ("notice", .notice), ("info", .info), ("INFO", .info), ("debug", .debug),
    ])
    func levelNames(name: String, level: LogLevel) {
        #expect(LogLevel(name: name) == level)
    }

    @Test(arguments: ["", "err", "trace", "information", "7", " info"])
    func unknownLevelNames(name: String) {
        #expect(LogLevel(name: name) == nil)
    }

    @Test func levelsAreOrderedBySeverity() {
        #expect(LogLevel.error < .warning)
        #expect(LogLevel.warning < .notice)
        #expect(LogLevel.notice < .info)
        #expect(LogLevel.info < .debug)
        #expect(!(LogLevel.debug < .error))
        #expect(LogLevel.allCases.sorted() == [.error, .warning, .notice, .info, .debug])
        #expect(LogLevel.allCases.map(\.rawValue) == [3, 4, 5, 6, 7])
    }

    // Issue 10, defect 7: a peer-supplied string must not forge a log line or write a NUL.
    @Test func controlCharactersInAMessageCannotForgeALine() {
        let log = Logger(component: "logtest-f", level: .debug)
        let hostile = "coap://x\n<0>logtest-f: forged emergency\r\u{0}z\u{7F}\u{85}\u{2028}é"
        let output = captureLogLines { log.warning("cannot resolve \(hostile)") }
        #expect(output == "<4>logtest-f: cannot resolve coap://x\\x0a<0>logtest-f: forged emergency\\x0d\\x00z\\x7f\\u{0085}\\u{2028}é\n")
        #expect(output.split(separator: "\n").count == 1)
        #expect(!output.utf8.contains(0))
    }

    @Test(arguments: [
        ("plain ascii", "plain ascii"), ("tab\there", "tab\\x09here"), ("bell\u{07}", "bell\\x07"),
        ("grüße 日本", "grüße 日本"), ("\u{9B}[31m", "\\u{009b}[31m"), ("", ""),
    ])
    func escaping(input: String, expected: String) {
        #expect(Logger.escaped(input) == expected)
    }
}
