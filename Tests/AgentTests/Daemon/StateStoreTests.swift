import AgentCommon
import AgentDaemon
import Files
import Glibc
import Testing

private func parse(_ text: String) throws(ConfigFileError) -> AgentConfiguration {
    try AgentConfiguration(parsing: text, environment: EndpointNameTemplate.Environment(
        machineID: { "0123abcd" }, hostname: { "gw-host" }, readFile: { _ in nil }))
}

/// The daemon's state file (`configuration.json`): saved and loaded, unreadable files moved
/// aside (or left, when only looked at), leftovers of interrupted writes cleaned.
@Suite struct StateStoreTests {
    private func directory() -> String {
        var template = Array("/tmp/lwm2m-state-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    @Test func savesAndLoadsTheConfiguration() throws {
        let store = try StateStore(directory: directory() + "/nested")
        guard case .none = store.load() else { Issue.record("expected nothing saved"); return }
        let configuration = try parse("[agent]\n[server 9]\nuri = coap://127.0.0.1:1\nlifetime = 77")
        try store.save(configuration.factorySnapshot)
        guard case .state(let loaded) = store.load() else { Issue.record("not loaded"); return }
        #expect(loaded == configuration.factorySnapshot)
    }

    @Test func anUnreadableFileIsMovedAsideNotLost() throws {
        let path = directory()
        let store = try StateStore(directory: path)
        try AtomicFile.write(Array("{\"format\":\"lwm2m-agent-configuration\",\"version\":1,\"objects\":{\"0\":".utf8),
                             to: store.path)
        guard case .unreadable(_, let aside?) = store.load() else { Issue.record("expected unreadable"); return }
        #expect(FileReader.exists(aside))
        #expect(!FileReader.exists(store.path))
        guard case .none = store.load() else { Issue.record("expected none after moving aside"); return }
    }

    @Test func leftoverTemporaryFilesAreCleanedAtStart() throws {
        let path = directory()
        try AtomicFile.write([1], to: "\(path)/configuration.json.tmp-99")
        _ = try StateStore(directory: path)
        #expect(try Directory.list(path).isEmpty)
    }

    // Issue 10, defect 12: the store looks without changing anything; a move that fails is
    // reported as such.
    private let garbage = Array("{\"format\":\"lwm2m-agent-configuration\",\"version\":1,\"objects\":{\"0\":".utf8)

    @Test func peekLeavesAnUnreadableFileAndTheDirectoryAsTheyAre() throws {
        let path = directory()
        try AtomicFile.write(garbage, to: "\(path)/configuration.json")
        try AtomicFile.write([1], to: "\(path)/configuration.json.tmp-4242")
        let store = StateStore(readingFrom: path)
        guard case .unreadable(_, nil) = store.peek() else { Issue.record("expected unreadable, not moved"); return }
        #expect(try Directory.list(path) == ["configuration.json", "configuration.json.tmp-4242"])
        #expect(try FileReader.read(store.path) == garbage)
    }

    @Test func aMoveThatFailsKeepsTheFileAndSaysSo() throws {
        let path = directory()
        let store = try StateStore(directory: path)
        try AtomicFile.write(garbage, to: store.path)
        // A non-empty directory where the copy should go: the move cannot happen.
        try Directory.create("\(store.path).unreadable/occupied")
        guard case .unreadable(let why, nil) = store.load() else { Issue.record("expected unreadable, not moved"); return }
        #expect(why.contains("could not move it aside"))
        #expect(try FileReader.read(store.path) == garbage)
    }

    @Test func aFIFOAtTheStatePathIsUnreadableAtOnce() throws {
        let path = directory()
        let store = try StateStore(directory: path)
        #expect(mkfifo(store.path, 0o600) == 0)
        guard case .unreadable(let why, nil) = store.load() else { Issue.record("expected unreadable"); return }
        #expect(why.contains("a FIFO, not a regular file"))
    }
}
