// A push whose block 0 announces its size (CoAP Size1): a package the store has no room for is
// refused at block 0, before anything is stored (Idle, Update Result 2, 5.00), not once the
// disk is full.
import CoAP
import Testing
@testable import LwM2M

@Suite struct FirmwareAnnouncedSizeTests {
    private let package = LwM2MPath(5, 0, 0)

    @Test func anAnnouncedSizeOverTheStoresRoomIsRefusedAtBlock0() throws {
        let rig = FirmwareRig()
        rig.store.limit = 100
        #expect(throws: LwM2MError.internalError(FirmwareStoreError.tooLarge(limit: 100).description)) {
            try rig.object.receiveBlock(package, offset: 0, bytes: [1, 2, 3], isLast: false, format: 42,
                                        announcedSize: 101)
        }
        #expect(rig.status == "0/2")
        #expect(rig.store.bytes.isEmpty)
        #expect(rig.changes() == [5])
        #expect(rig.requests() == ["persist 0/2"])
        // One that fits starts the push as usual.
        try rig.object.receiveBlock(package, offset: 0, bytes: [1, 2, 3], isLast: false, format: 42, announcedSize: 100)
        #expect(rig.status == "1/0")
        #expect(rig.store.bytes == [1, 2, 3])
    }

    @Test func theResponderPassesSize1OfBlock0() {
        let rig = FirmwareRig()
        rig.store.limit = 2048
        var first = request(.put, "/5/0/0", format: ContentFormat.octetStream, payload: Array(repeating: 7, count: 1024))
        first.size1 = 4096
        let block0 = StreamedBlock(block: BlockValue(number: 0, more: true, szx: 6), offset: 0)
        let refused = RequestHandler().handleBlock(first, block: block0, registry: rig.registry)
        #expect(refused.code == .internalServerError)
        #expect(rig.status == "0/2")
        #expect(rig.store.bytes.isEmpty)
        // Within the room: 2.31, the block stored.
        first.size1 = 2048
        #expect(RequestHandler().handleBlock(first, block: block0, registry: rig.registry).code == .continue)
        #expect(rig.status == "1/0" && rig.store.bytes.count == 1024)
    }
}
