import CoAP
@testable import LwM2M
import Testing

/// The object as the daemon rebuilds it after a restart or the reboot of an install, from the
/// state it persisted (the `.persist` requests), through the text format as the state file
/// holds it.
@Suite struct FirmwareRestoreTests {
    /// The state `rig` asked to persist last, written out and parsed back.
    private func persisted(_ requests: [FirmwareRequest]) throws -> FirmwareUpdateObject.PersistentState {
        let states = requests.compactMap { request -> FirmwareUpdateObject.PersistentState? in
            if case .persist(let state) = request { return state }
            return nil
        }
        let last = try #require(states.last)
        let restored = try FirmwareUpdateObject.PersistentState(parsing: Array(last.encoded().utf8))
        #expect(restored == last)
        return restored
    }

    @Test func idleAndItsResultComeBack() throws {
        let rig = FirmwareRig(protocols: [.coap])
        _ = rig.handle(.put, "/5/0/1", "https://h/x")
        let state = try persisted(rig.object.takeRequests())
        let again = FirmwareRig(protocols: [.coap], restoring: state)
        #expect(again.status == "0/9")
        #expect(again.requests().isEmpty)
    }

    @Test func aPullResumesFromTheStoreWithItsETag() throws {
        let rig = FirmwareRig()
        _ = rig.handle(.put, "/5/0/1", "coaps://fw.example.com/gw/2.0")
        try rig.store.append(Array(repeating: 1, count: 4096))
        rig.object.downloadProgress(bytes: 4096, etag: [0x01, 0x02, 0x03])
        let state = try persisted(rig.object.takeRequests())
        #expect(state.etag == [1, 2, 3])
        // The agent dies; the partial image survives with 4096 + 1024 bytes (more than persisted).
        let store = MemoryImageStore(holding: Array(repeating: 1, count: 5120))
        let again = FirmwareRig(store: store, restoring: state)
        #expect(again.status == "1/0")
        #expect(again.requests() == ["download coaps://fw.example.com/gw/2.0 from 5120 etag 010203"])
        #expect(again.object.persistentState.bytesDownloaded == 5120)
        #expect(again.object.isPulling)
        // And it finishes as a download does.
        try store.append([2])
        #expect(again.object.downloadFinished(.success(store.finishImage())))
        #expect(again.status == "2/0")
    }

    @Test func aPullWithoutAnETagStartsOverAfterARestart() throws {
        let rig = FirmwareRig()
        _ = rig.handle(.put, "/5/0/1", "http://fw.example.com/image")
        let state = try persisted(rig.object.takeRequests())
        let store = MemoryImageStore(holding: [1, 2, 3])
        let again = FirmwareRig(store: store, restoring: state)
        #expect(store.bytes.isEmpty)
        #expect(again.requests() == ["download http://fw.example.com/image from 0"])
        // A store that cannot even be reset: Idle with 2.
        let broken = MemoryImageStore(holding: [1, 2, 3])
        broken.resetFailure = .io("EIO")
        let failed = FirmwareRig(store: broken, restoring: state)
        #expect(failed.status == "0/2")
        #expect(failed.requests() == ["persist 0/2"])
    }

    @Test func aPullWhoseProtocolIsNoLongerSupportedEndsWithResult9() throws {
        let rig = FirmwareRig()
        _ = rig.handle(.put, "/5/0/1", "http://fw.example.com/image")
        let state = try persisted(rig.object.takeRequests())
        let again = FirmwareRig(protocols: [.coap, .coaps], store: MemoryImageStore(holding: [1]), restoring: state)
        #expect(again.status == "0/9")
        #expect(again.requests() == ["persist 0/9"])
        #expect(again.store.bytes.isEmpty)
    }

    @Test func anInterruptedPushEndsIdleWithConnectionLost() throws {
        let rig = FirmwareRig()
        try rig.object.receivePackageBlock(offset: 0, bytes: [1, 2, 3], isLast: false)
        let state = try persisted(rig.object.takeRequests())
        #expect(state.state == .downloading)
        let store = MemoryImageStore(holding: [1, 2, 3])
        let again = FirmwareRig(store: store, restoring: state)
        #expect(again.status == "0/4")
        #expect(store.bytes.isEmpty)
        #expect(again.requests() == ["persist 0/4"])
        // The server's next push starts at offset 0 and is accepted.
        try again.object.receivePackageBlock(offset: 0, bytes: [9], isLast: true)
        #expect(again.status == "2/0")
    }

    @Test func downloadedComesBackReadyForUpdate() throws {
        let rig = FirmwareRig()
        rig.pushWhole(Array(repeating: 4, count: 64))
        rig.object.setPackageIdentity(name: "gw", version: "3.1")
        let state = try persisted(rig.object.takeRequests())
        let again = FirmwareRig(store: MemoryImageStore(holding: Array(repeating: 4, count: 64)), restoring: state)
        #expect(again.status == "2/0")
        #expect(again.requests().isEmpty)
        #expect(again.value("/5/0/7") == "3.1")
        #expect(again.execute("/5/0/2") == .changed)
        #expect(again.requests() == ["persist 3/0 pending", "install 64 bytes"])
    }

    @Test func updatingAsksForTheOutcomeWhichIsReportedExactlyOnce() throws {
        let rig = FirmwareRig()
        rig.pushWhole(Array(repeating: 4, count: 64))
        _ = rig.execute("/5/0/2")
        let state = try persisted(rig.object.takeRequests())
        #expect(state.installPending)
        // The install rebooted the device; the agent starts again.
        let again = FirmwareRig(store: MemoryImageStore(holding: Array(repeating: 4, count: 64)), restoring: state)
        #expect(again.status == "3/0")
        #expect(again.requests() == ["resolve install of 64 bytes"])
        #expect(again.object.installFinished(.success))
        #expect(again.status == "0/1")
        let after = try persisted(again.object.takeRequests())
        #expect(after.installPending == false)
        #expect(!again.object.installFinished(.success))
        // A third start after that reports nothing again.
        let third = FirmwareRig(restoring: after)
        #expect(third.status == "0/1")
        #expect(third.requests().isEmpty)
        #expect(!third.object.installFinished(.success))
    }

    @Test func anInconsistentStateIsDroppedForIdle() {
        var state = FirmwareUpdateObject.PersistentState()
        state.state = .updating  // without an image or the install pending
        let store = MemoryImageStore(holding: [1, 2])
        let rig = FirmwareRig(store: store, restoring: state)
        #expect(rig.status == "0/0")
        #expect(store.bytes.isEmpty)
        #expect(rig.requests() == ["persist 0/0"])
    }
}
