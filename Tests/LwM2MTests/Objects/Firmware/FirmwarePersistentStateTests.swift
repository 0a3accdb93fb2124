import CoAP  // SplitMix64
@testable import LwM2M
import Testing

/// The text format of the persisted Firmware Update state: round trips, every field, damaged
/// files (a clear error with the line, never a crash).
@Suite struct FirmwarePersistentStateTests {
    private static var full: FirmwareUpdateObject.PersistentState {
        var state = FirmwareUpdateObject.PersistentState()
        state.state = .updating
        state.result = .initial
        state.packageURI = "coaps://fw.example.com/gw/2.0?x=%41"
        state.packageName = "gateway os\nline two 100% ünïcødé"
        state.packageVersion = ""
        state.bytesDownloaded = 5_000_000_000  // above 32 bits
        state.etag = [0, 0xFF, 0x10]
        state.image = FirmwareImage(path: "/var/lib/lwm2m agent/firmware/image", size: 5_000_000_000,
                                    digest: (0..<32).map { UInt8($0 * 7) })
        state.installPending = true
        state.automaticUpdate = true
        return state
    }

    @Test func everyFieldRoundTrips() throws {
        let text = Self.full.encoded()
        #expect(text.hasPrefix("lwm2m-agent-firmware-state 1\nstate 3\nresult 0\n"))
        #expect(text.contains("name gateway%20os%0aline%20two%20100%25%20%c3%bcn%c3%afc%c3%b8d%c3%a9\n"))
        #expect(text.contains("bytes 5000000000\n"))
        #expect(text.contains("etag 00ff10\n"))
        #expect(text.split(separator: "\n").count == 13)
        #expect(try FirmwareUpdateObject.PersistentState(parsing: Array(text.utf8)) == Self.full)
        let fresh = FirmwareUpdateObject.PersistentState()
        #expect(try FirmwareUpdateObject.PersistentState(parsing: Array(fresh.encoded().utf8)) == fresh)
    }

    @Test func unknownKeysAreSkippedForAnOlderAgentAfterARollback() throws {
        let text = Self.full.encoded() + "severity 1\nfuture-thing some value\n"
        #expect(try FirmwareUpdateObject.PersistentState(parsing: Array(text.utf8)) == Self.full)
    }

    @Test func damagedFilesAreClearErrors() {
        let good = Self.full.encoded()
        let cases: [(String, String)] = [
            ("", "firmware state line 1: not a firmware state file (expected \"lwm2m-agent-firmware-state 1\")"),
            ("lwm2m-agent-firmware-state 2\nstate 0\nresult 0\n", "firmware state line 1: not a firmware state file (expected \"lwm2m-agent-firmware-state 1\")"),
            ("lwm2m-agent-firmware-state 1\nresult 0\n", "firmware state: no state line"),
            ("lwm2m-agent-firmware-state 1\nstate 4\nresult 0\n", "firmware state line 2: state 4 is out of 0...3"),
            ("lwm2m-agent-firmware-state 1\nstate 0\nresult 12\n", "firmware state line 3: result 12 is out of 0...11"),
            ("lwm2m-agent-firmware-state 1\nstate -1\nresult 0\n", "firmware state line 2: state is not a decimal number"),
            ("lwm2m-agent-firmware-state 1\nstate 0\nstate 0\nresult 0\n", "firmware state line 3: state given twice"),
            ("lwm2m-agent-firmware-state 1\nstate 0\nresult 0\nbytes 99999999999999999999\n", "firmware state line 4: bytes is not a decimal number"),
            ("lwm2m-agent-firmware-state 1\nstate 0\nresult 0\nbytes 9999999999999999999\n", "firmware state line 4: bytes is too large"),
            ("lwm2m-agent-firmware-state 1\nstate 0\nresult 0\nname a b\n", "firmware state line 4: name holds an unencoded byte 0x20"),
            ("lwm2m-agent-firmware-state 1\nstate 0\nresult 0\nname a%4\n", "firmware state line 4: name has a malformed %-escape"),
            ("lwm2m-agent-firmware-state 1\nstate 0\nresult 0\nname %ff\n", "firmware state line 4: name is not UTF-8"),
            ("lwm2m-agent-firmware-state 1\nstate 0\nresult 0\netag abc\n", "firmware state line 4: etag must be 1...255 bytes of hex"),
            ("lwm2m-agent-firmware-state 1\nstate 0\nresult 0\netag zz\n", "firmware state line 4: etag is not hex"),
            ("lwm2m-agent-firmware-state 1\nstate 0\nresult 0\nnokey\n", "firmware state line 4: expected \"key value\""),
            ("lwm2m-agent-firmware-state 1\nstate 0\nresult 0\nimage-size 5\n", "firmware state: image-path, image-size and image-sha256 go together"),
            ("lwm2m-agent-firmware-state 1\nstate 2\nresult 0\n", "firmware state: state 2 without an image"),
            ("lwm2m-agent-firmware-state 1\nstate 0\nresult 0\ninstall-pending 1\n", "firmware state: install pending must be set exactly in state 3"),
            ("lwm2m-agent-firmware-state 1\nstate 0\nresult 0\nauto-update 2\n", "firmware state line 4: auto-update 2 is out of 0...1"),
            (good.replacing("image-sha256 00", with: "image-sha256 "),
             "firmware state line 11: image-sha256 must be 32...32 bytes of hex"),
        ]
        for (text, message) in cases {
            do {
                _ = try FirmwareUpdateObject.PersistentState(parsing: Array(text.utf8))
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.description == message, "\(text)")
            }
        }
    }

    @Test func randomBytesAndMutationsNeverCrash() {
        var rng = SplitMix64(seed: 0x5EED_F1A5)
        let good = Array(Self.full.encoded().utf8)
        var accepted = 0
        var refused = 0
        for round in 0..<20_000 {
            var input: [UInt8]
            if round % 2 == 0 {
                input = good
                mutate(&input, using: &rng)
            } else {
                input = (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                if round % 4 == 1 { input = Array("lwm2m-agent-firmware-state 1\n".utf8) + input }
            }
            do {
                let state = try FirmwareUpdateObject.PersistentState(parsing: input)
                #expect(state.inconsistency == nil)
                // What is accepted encodes and parses back to itself.
                #expect(try FirmwareUpdateObject.PersistentState(parsing: Array(state.encoded().utf8)) == state)
                accepted += 1
            } catch {
                #expect(!error.description.isEmpty)
                refused += 1
            }
        }
        #expect(accepted > 100)  // the mutations keep some files valid: the parser is exercised both ways
        #expect(refused > 10_000)
    }
}
