// Issue 10, defect 12: a crash must not dump registers or memory (secrets) into the journal.
import AgentCommon
import AgentDaemon
import AgentCLI
import AgentDemo
import Glibc
import Files
import Testing

@Suite struct CrashReportPolicyTests {
    @Test func settingsTurnOffRegisterAndMemoryDumps() {
        let settings = CrashReportPolicy.settings.split(separator: ",").map(String.init)
        #expect(settings.contains("registers=none"))
        #expect(settings.contains("images=none"))
        #expect(settings.contains("interactive=no"))
    }

    @Test func theSettingsAreAppendedOnceAndWin() {
        let settings = CrashReportPolicy.settings
        #expect(CrashReportPolicy.environmentValue(current: nil) == settings)
        #expect(CrashReportPolicy.environmentValue(current: "") == settings)
        #expect(CrashReportPolicy.environmentValue(current: "registers=all") == "registers=all," + settings)
        // Already in force: no re-exec (no loop).
        #expect(CrashReportPolicy.environmentValue(current: settings) == nil)
        #expect(CrashReportPolicy.environmentValue(current: "enable=yes," + settings) == nil)
        // Settings after ours would override them: appended again.
        #expect(CrashReportPolicy.environmentValue(current: settings + ",registers=all") == settings + ",registers=all," + settings)
    }

    /// The systemd unit, the SysV script and the interop tests set exactly the daemon's settings (so it does not
    /// need to re-execute itself under them).
    @Test(arguments: ["init/lwm2m-agentd.service", "init/lwm2m-agentd.init", "Tests/interop/conftest.py"])
    func initScriptsSetTheSameSettings(file: String) throws {
        let root = "/" + String(#filePath.split(separator: "/Tests/").first!.drop(while: { $0 == "/" }))
        let text = String(decoding: try FileReader.read("\(root)/\(file)"), as: UTF8.self)
        #expect(text.contains("SWIFT_BACKTRACE=\(CrashReportPolicy.settings)") || text.contains("SWIFT_BACKTRACE=\"\(CrashReportPolicy.settings)\""))
    }
}
