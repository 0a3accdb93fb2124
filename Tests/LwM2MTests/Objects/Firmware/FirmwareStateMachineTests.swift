import CoAP
@testable import LwM2M
import Testing

// The Firmware Update state machine, transition by transition (TS 1.1 Core Appendix E.6.1 and
// the resource descriptions of objects/oma/5.xml), over the responder as a server drives it.
// Forbidden operations: Update outside Downloaded is 4.05 (5.xml, Update: "only executable
// when the value of the State Resource is Downloaded"); Write of Package / Package URI and
// Cancel in Updating are 4.05 (5.xml, Cancel: "If the device is in the process of installing
// the firmware … it MUST respond with Method Not Allowed"); a new package while one is
// downloading or downloaded is 4.00 (the server must reset first, E.6.1 has no such edge).

@Suite struct FirmwareStateMachineTests {
    // MARK: - Idle

    @Test func theObjectStartsIdleAndTellsWhatItCanDo() throws {
        let rig = FirmwareRig(protocols: [.https, .coap, .coaps])
        #expect(rig.object.definition.id == 5)
        #expect(rig.object.instanceIDs == [0])
        #expect(rig.object.resourceIDs(in: 0) == [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 14])
        #expect(rig.object.resourceIDs(in: 1).isEmpty)
        #expect(rig.value("/5/0/3") == "0")
        #expect(rig.value("/5/0/5") == "0")
        #expect(rig.value("/5/0/1") == "")
        #expect(rig.value("/5/0/6") == "")
        #expect(rig.value("/5/0/9") == "2")
        #expect(rig.value("/5/0/14") == "0")
        #expect(try rig.object.read(LwM2MPath(5, 0, 8)) == .multiple([0: .integer(0), 1: .integer(1), 2: .integer(3)]))
        #expect(rig.value("/5/0/0") == "\(CoAPCode.methodNotAllowed)")  // write-only
        #expect(rig.requests().isEmpty)  // a fresh object has nothing to persist
        #expect(FirmwareRig(protocols: [], acceptsPush: true).value("/5/0/9") == "1")
        #expect(FirmwareRig(protocols: [.coap], acceptsPush: false).value("/5/0/9") == "0")
    }

    @Test func aWholePackageWriteGoesToTheStoreAndEndsDownloaded() {
        let rig = FirmwareRig()
        let package = Array(repeating: UInt8(0xA5), count: 300)
        #expect(rig.write("/5/0/0", bytes: package).code == .changed)
        #expect(rig.status == "2/0")
        #expect(rig.store.bytes == package)
        #expect(rig.store.finishes == 1)
        #expect(rig.changes() == [3])
        #expect(rig.requests() == ["persist 2/0"])
        #expect(rig.object.persistentState.image == MemoryImageStore.image(of: package))
        #expect(rig.object.persistentState.bytesDownloaded == 300)
    }

    @Test func aBlockwisePushStreamsBlockByBlock() throws {
        let rig = FirmwareRig()
        try rig.object.receivePackageBlock(offset: 0, bytes: Array(repeating: 1, count: 16), isLast: false)
        #expect(rig.status == "1/0")
        #expect(rig.changes() == [3])
        #expect(rig.requests() == ["persist 1/0"])
        try rig.object.receivePackageBlock(offset: 16, bytes: Array(repeating: 2, count: 16), isLast: false)
        #expect(rig.object.persistentState.bytesDownloaded == 32)
        #expect(rig.changes().isEmpty)
        #expect(rig.requests().isEmpty)  // progress alone is not persisted
        try rig.object.receivePackageBlock(offset: 32, bytes: [3, 3], isLast: true)
        #expect(rig.status == "2/0")
        #expect(rig.store.bytes == Array(repeating: 1, count: 16) + Array(repeating: 2, count: 16) + [3, 3])
        #expect(rig.changes() == [3])
        #expect(rig.requests() == ["persist 2/0"])
    }

    @Test func aPushRestartedAtOffsetZeroStartsCleanly() throws {
        let rig = FirmwareRig()
        try rig.object.receivePackageBlock(offset: 0, bytes: [9, 9, 9, 9], isLast: false)
        try rig.object.receivePackageBlock(offset: 4, bytes: [8, 8, 8, 8], isLast: false)
        _ = rig.changes()
        _ = rig.requests()
        try rig.object.receivePackageBlock(offset: 0, bytes: [1, 2], isLast: false)
        #expect(rig.store.bytes == [1, 2])
        #expect(rig.status == "1/0")
        try rig.object.receivePackageBlock(offset: 2, bytes: [3], isLast: true)
        #expect(rig.store.bytes == [1, 2, 3])
        #expect(rig.object.persistentState.image?.size == 3)
    }

    @Test func aBlockOutOfSequenceIsRefusedAndChangesNothing() throws {
        let rig = FirmwareRig()
        #expect(throws: LwM2MError.self) { try rig.object.receivePackageBlock(offset: 16, bytes: [1], isLast: false) }
        #expect(rig.status == "0/0")
        try rig.object.receivePackageBlock(offset: 0, bytes: [1, 2, 3, 4], isLast: false)
        for offset: Int64 in [3, 5, 100] {
            #expect(throws: LwM2MError.badRequest("Package block at byte \(offset), expected byte 4")) {
                try rig.object.receivePackageBlock(offset: offset, bytes: [5], isLast: false)
            }
        }
        #expect(throws: LwM2MError.badRequest("negative Package offset")) {
            try rig.object.receivePackageBlock(offset: -1, bytes: [5], isLast: false)
        }
        #expect(rig.store.bytes == [1, 2, 3, 4])
        #expect(rig.status == "1/0")
    }

    @Test func aPackageURIStartsADownload() {
        let rig = FirmwareRig()
        #expect(rig.handle(.put, "/5/0/1", "coaps://fw.example.com:5684/gw/2.0?v=1").code == .changed)
        #expect(rig.status == "1/0")
        #expect(rig.value("/5/0/1") == "coaps://fw.example.com:5684/gw/2.0?v=1")
        #expect(rig.object.isPulling)
        #expect(rig.changes() == [1, 3])
        // Persisted before the download starts, so a restart resumes it.
        #expect(rig.requests() == ["persist 1/0", "download coaps://fw.example.com:5684/gw/2.0?v=1 from 0"])
    }

    @Test func anInvalidPackageURISetsResult7AndAnUnsupportedScheme9() {
        let rig = FirmwareRig(protocols: [.coap, .coaps])
        for bad in ["not a uri", "coap:/missing-slash", "coap://", "coap://host:99999/x", "coap://h/a b",
                    "coap://h/x#frag", "coap://h/%zz", "://h/x", String(repeating: "a", count: 250) + "://h/x"] {
            #expect(rig.handle(.put, "/5/0/1", bad).code == .badRequest, "\(bad)")
            #expect(rig.status == "0/7", "\(bad)")
        }
        #expect(rig.changes() == [5])
        #expect(rig.requests() == ["persist 0/7"])
        for unsupported in ["http://fw.example.com/image", "ftp://fw.example.com/image", "coap+tcp://h/x"] {
            #expect(rig.handle(.put, "/5/0/1", unsupported).code == .badRequest, "\(unsupported)")
            #expect(rig.status == "0/9", "\(unsupported)")
        }
        #expect(rig.value("/5/0/1") == "")
        #expect(rig.requests() == ["persist 0/9"])
        // A valid one afterwards starts the download and puts the result back to 0.
        #expect(rig.handle(.put, "/5/0/1", "COAP://[2001:db8::1]:5683/fw").code == .changed)
        #expect(rig.status == "1/0")
    }

    @Test func withoutPullProtocolsEveryURIIsUnsupportedAndWithoutPushPackageIs405() {
        let pushOnly = FirmwareRig(protocols: [])
        #expect(pushOnly.handle(.put, "/5/0/1", "coap://fw.example.com/x").code == .badRequest)
        #expect(pushOnly.status == "0/9")
        let pullOnly = FirmwareRig(acceptsPush: false)
        #expect(pullOnly.write("/5/0/0", bytes: [1, 2, 3]).code == .methodNotAllowed)
        #expect(pullOnly.status == "0/0")
        #expect(pullOnly.store.resets == 0)
    }

    @Test func updateAndCancelAre405InIdle() {
        let rig = FirmwareRig()
        #expect(rig.execute("/5/0/2") == .methodNotAllowed)
        #expect(rig.execute("/5/0/10") == .methodNotAllowed)
        #expect(rig.status == "0/0")
        #expect(rig.requests().isEmpty)
    }

    @Test func anEmptyWriteInIdleClearsAFailureResult() {
        let rig = FirmwareRig(protocols: [.coap])
        _ = rig.handle(.put, "/5/0/1", "https://x/y")
        #expect(rig.status == "0/9")
        _ = rig.changes()
        #expect(rig.write("/5/0/0", bytes: [0]).code == .changed)
        #expect(rig.status == "0/0")
        #expect(rig.changes() == [5])
    }

    // MARK: - Downloading

    @Test func downloadingRefusesANewPackageOrURIUntilReset() throws {
        let push = FirmwareRig()
        try push.object.receivePackageBlock(offset: 0, bytes: [1, 2], isLast: false)
        #expect(push.handle(.put, "/5/0/1", "coap://h/x").code == .badRequest)
        #expect(push.execute("/5/0/2") == .methodNotAllowed)
        #expect(push.status == "1/0")
        #expect(push.store.bytes == [1, 2])

        let pull = FirmwareRig()
        _ = pull.handle(.put, "/5/0/1", "coap://h/x")
        #expect(pull.write("/5/0/0", bytes: [1, 2, 3]).code == .badRequest)
        #expect(pull.handle(.put, "/5/0/1", "coap://h/other").code == .badRequest)
        #expect(throws: LwM2MError.self) { try pull.object.receivePackageBlock(offset: 0, bytes: [1], isLast: false) }
        #expect(throws: LwM2MError.self) { try pull.object.receivePackageBlock(offset: 0, bytes: [], isLast: false) }
        #expect(pull.execute("/5/0/2") == .methodNotAllowed)
        #expect(pull.status == "1/0")
        #expect(pull.value("/5/0/1") == "coap://h/x")
    }

    @Test func emptyWritesResetAPullAndCancelTheDownload() {
        for reset in ["empty URI", "empty Package", "NUL Package"] {
            let rig = FirmwareRig()
            _ = rig.handle(.put, "/5/0/1", "coap://h/x")
            try! rig.store.append([1, 2, 3])
            rig.object.downloadProgress(bytes: 3)
            _ = rig.changes()
            _ = rig.requests()
            let code = switch reset {
            case "empty URI": rig.handle(.put, "/5/0/1", "").code
            case "empty Package": rig.write("/5/0/0", bytes: []).code
            default: rig.write("/5/0/0", bytes: [0]).code
            }
            #expect(code == .changed, "\(reset)")
            #expect(rig.status == "0/0", "\(reset)")
            #expect(rig.store.bytes.isEmpty, "\(reset)")
            #expect(rig.value("/5/0/1") == "", "\(reset)")
            #expect(rig.changes() == [1, 3], "\(reset)")
            #expect(rig.requests() == ["cancel download", "persist 0/0"], "\(reset)")
            // A report of the cancelled download arriving late changes nothing.
            #expect(!rig.object.downloadFinished(.success(MemoryImageStore.image(of: [1, 2, 3]))))
            #expect(!rig.object.downloadProgress(bytes: 4))
            #expect(rig.status == "0/0")
        }
    }

    @Test func anEmptyWriteResetsAPush() throws {
        let rig = FirmwareRig()
        try rig.object.receivePackageBlock(offset: 0, bytes: [1, 2], isLast: false)
        _ = rig.requests()
        try rig.object.receivePackageBlock(offset: 0, bytes: [0], isLast: true)
        #expect(rig.status == "0/0")
        #expect(rig.store.bytes.isEmpty)
        #expect(rig.requests() == ["persist 0/0"])  // no download to cancel
    }

    @Test func cancelEndsADownloadWithResult10() throws {
        let pull = FirmwareRig()
        _ = pull.handle(.put, "/5/0/1", "coap://h/x")
        _ = pull.changes()
        _ = pull.requests()
        #expect(pull.execute("/5/0/10") == .changed)
        #expect(pull.status == "0/10")
        #expect(pull.changes() == [1, 3, 5])
        #expect(pull.requests() == ["cancel download", "persist 0/10"])
        #expect(pull.execute("/5/0/10") == .methodNotAllowed)  // nothing left to cancel

        let push = FirmwareRig()
        try push.object.receivePackageBlock(offset: 0, bytes: [1, 2], isLast: false)
        #expect(push.execute("/5/0/10") == .changed)
        #expect(push.status == "0/10")
        #expect(push.store.bytes.isEmpty)
        // The server's next block finds no transfer; a new one starts from offset 0.
        #expect(throws: LwM2MError.self) { try push.object.receivePackageBlock(offset: 2, bytes: [3], isLast: true) }
        try push.object.receivePackageBlock(offset: 0, bytes: [7], isLast: true)
        #expect(push.status == "2/0")
    }

    @Test func aPullReportsProgressAndEndsDownloaded() {
        let rig = FirmwareRig()
        _ = rig.handle(.put, "/5/0/1", "http://fw.example.com/image.bin")
        _ = rig.changes()
        _ = rig.requests()
        try! rig.store.append(Array(repeating: 7, count: 1024))
        #expect(rig.object.downloadProgress(bytes: 1024, etag: [0xAB, 0xCD]))
        #expect(rig.object.persistentState.bytesDownloaded == 1024)
        #expect(rig.requests() == ["persist 1/0"])  // the ETag is worth persisting (resume)
        #expect(rig.object.downloadProgress(bytes: 2048, etag: [0xAB, 0xCD]))
        #expect(rig.requests().isEmpty)
        #expect(rig.changes().isEmpty)
        let image = rig.store.finishImage()
        #expect(rig.object.downloadFinished(.success(image)))
        #expect(rig.status == "2/0")
        #expect(rig.object.persistentState.image == image)
        #expect(rig.changes() == [3])
        #expect(rig.requests() == ["persist 2/0"])
        #expect(!rig.object.downloadFinished(.success(image)))  // only once
    }

    @Test func aFailedPullEndsIdleWithItsResultAndKeepsTheURI() {
        for failure in [FirmwareUpdateResult.notEnoughStorage, .outOfMemory, .connectionLost,
                        .integrityCheckFailure, .unsupportedPackageType, .invalidURI, .unsupportedProtocol] {
            let rig = FirmwareRig()
            _ = rig.handle(.put, "/5/0/1", "coap://h/x")
            try! rig.store.append([1, 2])
            _ = rig.changes()
            #expect(rig.object.downloadFinished(.failure(failure)))
            #expect(rig.status == "0/\(failure.rawValue)")
            #expect(rig.store.bytes.isEmpty)
            #expect(rig.value("/5/0/1") == "coap://h/x")
            #expect(rig.changes() == [3, 5])
        }
        // Results that cannot end a download are reported as 8.
        for odd in [FirmwareUpdateResult.initial, .success, .cancelled, .deferred] {
            let rig = FirmwareRig()
            _ = rig.handle(.put, "/5/0/1", "coap://h/x")
            rig.object.downloadFinished(.failure(odd))
            #expect(rig.status == "0/8")
        }
    }

    @Test func aStoreFailureEndsThePushIdleWithResult2() throws {
        for failure in [FirmwareStoreError.insufficientStorage, .tooLarge(limit: 10), .io("EIO")] {
            let rig = FirmwareRig()
            try rig.object.receivePackageBlock(offset: 0, bytes: [1, 2, 3], isLast: false)
            _ = rig.changes()
            _ = rig.requests()
            rig.store.appendFailure = failure
            #expect(throws: LwM2MError.internalError(failure.description)) {
                try rig.object.receivePackageBlock(offset: 3, bytes: [4], isLast: false)
            }
            #expect(rig.status == "0/2")
            #expect(rig.store.bytes.isEmpty)
            #expect(rig.changes() == [3, 5])
            #expect(rig.requests() == ["persist 0/2"])
        }
        // Over the configured maximum in a whole write: 5.00, Idle, 2.
        let rig = FirmwareRig()
        rig.store.limit = 100
        #expect(rig.write("/5/0/0", bytes: Array(repeating: 1, count: 101)).code == .internalServerError)
        #expect(rig.status == "0/2")
        // Finishing can fail too.
        rig.store.finishFailure = .io("fsync: EIO")
        #expect(rig.write("/5/0/0", bytes: [1, 2]).code == .internalServerError)
        #expect(rig.status == "0/2")
        // So can resetting the store at the start of a push: nothing starts.
        rig.store.resetFailure = .io("unlink: EROFS")
        #expect(rig.write("/5/0/0", bytes: [1, 2]).code == .internalServerError)
        #expect(rig.status == "0/2")
    }

    // MARK: - Downloaded

    @Test func downloadedTakesOnlyUpdateCancelOrAReset() {
        let rig = FirmwareRig()
        rig.pushWhole()
        #expect(rig.write("/5/0/0", bytes: [1, 2, 3]).code == .badRequest)
        #expect(rig.handle(.put, "/5/0/1", "coap://h/x").code == .badRequest)
        #expect(rig.status == "2/0")
        #expect(rig.store.bytes == Array(1...200))
        #expect(rig.handle(.put, "/5/0/1", "").code == .changed)
        #expect(rig.status == "0/0")
        #expect(rig.store.bytes.isEmpty)
        #expect(rig.object.persistentState.image == nil)
        #expect(rig.requests() == ["persist 0/0"])

        let cancelled = FirmwareRig()
        cancelled.pull()
        #expect(cancelled.execute("/5/0/10") == .changed)
        #expect(cancelled.status == "0/10")
        #expect(cancelled.requests() == ["persist 0/10"])  // the download had ended: nothing to cancel
    }

    @Test func updatePersistsUpdatingBeforeItAsksForTheInstall() {
        let rig = FirmwareRig()
        rig.pushWhole()
        #expect(rig.execute("/5/0/2") == .changed)
        #expect(rig.status == "3/0")
        #expect(rig.changes() == [3])
        #expect(rig.requests() == ["persist 3/0 pending", "install 200 bytes"])
        #expect(rig.object.persistentState.installPending)
    }

    @Test func automaticUpgradeAtDownloadInstallsAsSoonAsThePackageIsComplete() throws {
        let rig = FirmwareRig()
        #expect(rig.handle(.put, "/5/0/14", "1").code == .changed)
        #expect(rig.changes() == [14])
        #expect(rig.requests() == ["persist 0/0"])
        try rig.object.receivePackageBlock(offset: 0, bytes: [1, 2, 3], isLast: true)
        #expect(rig.status == "3/0")
        #expect(rig.requests() == ["persist 3/0 pending", "install 3 bytes"])
        // The server can switch it off again.
        #expect(rig.handle(.put, "/5/0/14", "0").code == .changed)
        #expect(rig.value("/5/0/14") == "0")
    }

    // MARK: - Updating

    @Test func updatingRefusesEveryWriteCancelAndUpdateWith405() throws {
        let rig = FirmwareRig()
        rig.pushWhole()
        _ = rig.execute("/5/0/2")
        _ = rig.requests()
        _ = rig.changes()
        #expect(rig.write("/5/0/0", bytes: [1]).code == .methodNotAllowed)
        #expect(rig.write("/5/0/0", bytes: [0]).code == .methodNotAllowed)
        #expect(rig.write("/5/0/0", bytes: []).code == .methodNotAllowed)
        #expect(rig.handle(.put, "/5/0/1", "").code == .methodNotAllowed)
        #expect(rig.handle(.put, "/5/0/1", "coap://h/x").code == .methodNotAllowed)
        #expect(rig.execute("/5/0/10") == .methodNotAllowed)
        #expect(rig.execute("/5/0/2") == .methodNotAllowed)
        #expect(throws: LwM2MError.self) { try rig.object.receivePackageBlock(offset: 0, bytes: [1], isLast: false) }
        #expect(rig.status == "3/0")
        #expect(rig.store.bytes == Array(1...200))
        #expect(rig.requests().isEmpty)
        #expect(rig.changes().isEmpty)
    }

    @Test func aSuccessfulInstallEndsIdleWithResult1ExactlyOnce() {
        let rig = FirmwareRig()
        rig.pushWhole()
        _ = rig.execute("/5/0/2")
        #expect(rig.object.setPackageIdentity(name: "gateway-os", version: "2.0.1"))
        _ = rig.changes()
        _ = rig.requests()
        #expect(rig.object.installFinished(.success))
        #expect(rig.status == "0/1")
        #expect(rig.store.bytes.isEmpty)
        #expect(rig.value("/5/0/7") == "2.0.1")  // describes what is installed now
        #expect(rig.changes() == [3, 5])
        #expect(rig.requests() == ["persist 0/1"])
        #expect(!rig.object.installFinished(.success))
        #expect(!rig.object.installFinished(.updateFailed))
        #expect(rig.status == "0/1")
        #expect(rig.requests().isEmpty)
    }

    @Test func aFailedInstallGoesBackToDownloadedOrIdleByItsResult() {
        let cases: [(FirmwareUpdateResult, String)] = [
            (.updateFailed, "2/8"), (.notEnoughStorage, "2/2"), (.outOfMemory, "2/3"), (.deferred, "2/11"),
            (.integrityCheckFailure, "0/5"), (.unsupportedPackageType, "0/6"),
            (.connectionLost, "2/8"), (.initial, "2/8"), (.cancelled, "2/8"),
        ]
        for (outcome, status) in cases {
            let rig = FirmwareRig()
            rig.pushWhole()
            _ = rig.execute("/5/0/2")
            _ = rig.changes()
            #expect(rig.object.installFinished(outcome))
            #expect(rig.status == status, "\(outcome)")
            #expect(rig.object.persistentState.installPending == false)
            #expect(rig.store.bytes.isEmpty == status.hasPrefix("0/"), "\(outcome)")
            if status.hasPrefix("2/") {
                // The image is kept: the server may Update again.
                #expect(rig.execute("/5/0/2") == .changed)
                #expect(rig.status == "3/0")
            }
        }
    }

    @Test func aDeferredInstallStartingOnItsOwnIsUpdatingAgain() {
        let rig = FirmwareRig()
        rig.pushWhole()
        #expect(!rig.object.installStarted())  // not deferred
        _ = rig.execute("/5/0/2")
        #expect(!rig.object.installStarted())  // already Updating
        rig.object.installFinished(.deferred)
        #expect(rig.status == "2/11")
        _ = rig.changes()
        _ = rig.requests()
        #expect(rig.object.installStarted())
        #expect(rig.status == "3/0")
        #expect(rig.changes() == [3, 5])
        #expect(rig.requests() == ["persist 3/0 pending"])  // no second install request
        #expect(rig.object.installFinished(.success))
        #expect(rig.status == "0/1")
    }

    @Test func aWriteReplaceOfTheInstanceResetsAndClearsAutomaticUpgrade() {
        let rig = FirmwareRig()
        _ = rig.handle(.put, "/5/0/14", "1")
        _ = rig.handle(.put, "/5/0/1", "coap://h/x")
        _ = rig.requests()
        let replace = #"[{"bn":"/5/0/","n":"0","vd":""},{"n":"1","vs":""}]"#
        let response = RequestHandler().handle(request(.put, "/5/0", format: ContentFormat.senmlJSON,
                                                       payload: utf8(replace)), registry: rig.registry)
        #expect(response.code == .changed)
        #expect(rig.status == "0/0")
        #expect(rig.value("/5/0/14") == "0")
        #expect(rig.value("/5/0/1") == "")
        // One persist per resource the replace changed: the reset, then 14 off.
        #expect(rig.requests() == ["cancel download", "persist 0/0", "persist 0/0"])
        #expect(rig.object.persistentState.automaticUpdate == false)
        // Without the mandatory Package and Package URI a replace is 4.00 and changes nothing.
        _ = rig.handle(.put, "/5/0/14", "1")
        let partial = RequestHandler().handle(request(.put, "/5/0", format: ContentFormat.senmlJSON,
                                                      payload: utf8(#"[{"bn":"/5/0/","n":"14","vb":false}]"#)),
                                              registry: rig.registry)
        #expect(partial.code == .badRequest)
        #expect(rig.value("/5/0/14") == "1")
    }

    // MARK: - Package name and version

    @Test func packageNameAndVersionFollowThePackage() {
        let rig = FirmwareRig()
        #expect(!rig.object.setPackageIdentity(name: "x", version: "1"))  // no package in Idle
        _ = rig.handle(.put, "/5/0/1", "coap://h/x")
        _ = rig.changes()
        let long = String(repeating: "é", count: 200)  // 400 bytes
        #expect(rig.object.setPackageIdentity(name: long, version: "1.0"))
        #expect(rig.changes() == [6, 7])
        #expect(rig.value("/5/0/6").utf8.count == 254)  // 127 characters of 2 bytes
        #expect(rig.value("/5/0/7") == "1.0")
        _ = rig.handle(.put, "/5/0/1", "")
        #expect(rig.value("/5/0/6") == "")
        #expect(rig.value("/5/0/7") == "")
    }
}
