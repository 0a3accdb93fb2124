import CoAP  // SplitMix64
@testable import LwM2M
import Testing

/// Random sequences of everything a server and the outer layer can do to the object, with
/// restarts from the persisted state in between: it never traps, every answer is one of the
/// codes the state machine gives, and after each step the invariants hold (a consistent state,
/// persisted as it is, no image bytes left in Idle, the State a server reads is the object's).
@Suite struct FirmwareRandomOperationsTests {
    @Test func randomOperationsKeepTheInvariants() throws {
        var rng = SplitMix64(seed: 0xF1_2A_0005)
        let uris = ["coap://h/fw", "coaps://[::1]:5684/fw", "https://fw.example.com/a.bin", "ftp://h/x", "not a uri", ""]
        let results = FirmwareUpdateResult.allCases
        var visited: Set<String> = []
        for _ in 0..<40 {
            let store = MemoryImageStore()
            var rig = FirmwareRig(store: store)
            var persisted = rig.object.persistentState
            for _ in 0..<150 {
                var codes: [CoAPCode] = []
                switch rng.next() % 12 {
                case 0:
                    let length = Int(rng.next() % 4)
                    codes.append(rig.write("/5/0/0", bytes: length == 1 ? [0] : Array(repeating: 7, count: length * 50)).code)
                case 1, 2:
                    let offset = rng.next() % 3 == 0 ? Int64(rng.next() % 100) : (rng.next() % 4 == 0 ? 0 : store.size)
                    do {
                        try rig.object.receivePackageBlock(offset: offset, bytes: Array(repeating: 3, count: Int(rng.next() % 64)),
                                                           isLast: rng.next() % 3 == 0)
                        codes.append(.changed)
                    } catch {
                        codes.append(error.code)
                    }
                case 3: codes.append(rig.handle(.put, "/5/0/1", uris[Int(rng.next() % UInt64(uris.count))]).code)
                case 4: codes.append(rig.handle(.post, "/5/0/2").code)
                case 5: codes.append(rig.handle(.post, "/5/0/10").code)
                case 6:
                    if rig.object.isPulling { try store.append(Array(repeating: 5, count: Int(rng.next() % 100))) }
                    rig.object.downloadProgress(bytes: store.size, etag: rng.next() % 2 == 0 ? [1, 2] : nil)
                case 7:
                    if rng.next() % 2 == 0 {
                        rig.object.downloadFinished(.success(store.finishImage()))
                    } else {
                        rig.object.downloadFinished(.failure(results[Int(rng.next() % UInt64(results.count))]))
                    }
                case 8: rig.object.installFinished(results[Int(rng.next() % UInt64(results.count))])
                case 9: rig.object.setPackageIdentity(name: "pkg", version: "\(rng.next() % 10)")
                case 10: codes.append(rig.handle(.put, "/5/0/14", rng.next() % 2 == 0 ? "1" : "0").code)
                default:
                    // The agent restarts from what it persisted, with what the store holds.
                    rig = FirmwareRig(store: store, restoring: persisted)
                }
                for request in rig.object.takeRequests() {
                    if case .persist(let state) = request {
                        #expect(try FirmwareUpdateObject.PersistentState(parsing: Array(state.encoded().utf8)) == state)
                        persisted = state
                    }
                }
                let state = rig.object.persistentState
                #expect(codes.allSatisfy { [.changed, .badRequest, .methodNotAllowed, .internalServerError].contains($0) },
                        "\(codes)")
                #expect(state.inconsistency == nil)
                var unsaved = state
                unsaved.bytesDownloaded = persisted.bytesDownloaded
                #expect(unsaved == persisted, "every change is persisted")
                if state.state == .idle { #expect(store.size == 0, "no image left in Idle") }
                #expect(rig.value("/5/0/3") == "\(state.state.rawValue)")
                visited.insert("\(state.state.rawValue)/\(state.result.rawValue)")
            }
        }
        // The walk reached every state and most results.
        for state in 0...3 { #expect(visited.contains { $0.hasPrefix("\(state)/") }, "state \(state)") }
        #expect(visited.count >= 12, "\(visited.sorted())")
    }
}
