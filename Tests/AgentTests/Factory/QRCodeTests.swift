import AgentCommon
import AgentDaemon
@testable import AgentCLI
import Testing

@Suite("QR code encoder")
struct QRCodeTests {
    @Test("matches segno's matrices module for module with the same mask",
          arguments: QRGoldenVectors.all.indices)
    func goldenMatrix(index: Int) throws {
        let vector = QRGoldenVectors.all[index]
        let level: QRCode.ErrorCorrection = vector.medium ? .medium : .low
        let forced = try QRCode(Array(vector.data.utf8), errorCorrection: level, mask: vector.mask)
        #expect(forced.version == vector.version)
        let rows = forced.modules.map { String($0.map { $0 ? "1" : "0" }) }
        #expect(rows == vector.rows)
        // Our penalty is evaluated with the format bits drawn (segno leaves them out), so the
        // chosen mask may differ; any mask gives a valid symbol.
        let chosen = try QRCode(Array(vector.data.utf8), errorCorrection: level)
        #expect(chosen.version == vector.version)
        #expect(try QRCode(Array(vector.data.utf8), errorCorrection: level, mask: chosen.mask) == chosen)
    }

    @Test("Reed–Solomon remainder of the ISO/IEC 18004 annex I example (version 1-M)")
    func reedSolomonExample() {
        // "01234567" in numeric mode, 1-M: data and ECC codewords from the standard's annex I.
        let data: [UInt8] = [0x10, 0x20, 0x0C, 0x56, 0x61, 0x80, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11]
        let ecc = ReedSolomon.remainder(data, divisor: ReedSolomon.divisor(degree: 10))
        #expect(ecc == [0xA5, 0x24, 0xD4, 0xC1, 0xED, 0x36, 0xC7, 0x87, 0x2C, 0x55])
    }

    @Test("too long for version 10 is refused; the terminal text has a quiet zone")
    func limitsAndRendering() throws {
        #expect(throws: QRCode.EncodingError.tooLong(400)) { try QRCode([UInt8](repeating: 0x41, count: 400)) }
        let code = try QRCode(Array("HELLO".utf8))
        let lines = code.terminalText(ansi: false).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == (code.size + 8 + 1) / 2)
        #expect(lines.allSatisfy { $0.count == code.size + 8 })
        #expect(lines.first!.allSatisfy { $0 == " " })
    }
}
