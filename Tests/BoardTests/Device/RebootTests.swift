import Board
import Files
import Glibc
import Testing

@Suite struct RebootTests {
    @Test func commandRunsWithItsArguments() throws {
        let directory = temporaryDirectory()
        let script = directory + "/stand-in-reboot"
        writeFile(script, "#!/bin/sh\necho \"$@\" > \"$1\"\n", mode: 0o755)
        try SystemReboot.perform(.command(path: script, arguments: [directory + "/marker", "now"]))
        #expect(String(decoding: try FileReader.read(directory + "/marker"), as: UTF8.self) == directory + "/marker now\n")
    }

    @Test func failuresAreReported() {
        let directory = temporaryDirectory()
        let failing = directory + "/failing"
        writeFile(failing, "#!/bin/sh\nexit 3\n", mode: 0o755)
        #expect(throws: SystemReboot.Failure.exited(failing, status: 3)) {
            try SystemReboot.perform(.command(path: failing, arguments: []))
        }
        #expect(throws: SystemReboot.Failure.cannotRun(directory + "/missing", errno: ENOENT)) {
            try SystemReboot.perform(.command(path: directory + "/missing", arguments: []))
        }
        #expect(SystemReboot.Failure.syscall(errno: EPERM).description.contains("CAP_SYS_BOOT"))
    }
}
