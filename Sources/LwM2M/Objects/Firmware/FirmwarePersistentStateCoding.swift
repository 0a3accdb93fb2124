import CoAP

/// Why a persisted Firmware Update state could not be read back.
public struct FirmwareStateParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The 1-based line the problem is on (0: the text as a whole).
    public let line: Int
    /// What is wrong.
    public let reason: String

    public init(line: Int, _ reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String {
        line > 0 ? "firmware state line \(line): \(reason)" : "firmware state: \(reason)"
    }
}

/// The text format of `FirmwareUpdateObject.PersistentState`: a header line
/// `lwm2m-agent-firmware-state 1`, then one `key value` line per field (a single space between;
/// absent optional fields have no line):
///
/// ```
/// lwm2m-agent-firmware-state 1
/// state 2
/// result 0
/// uri coaps://fw.example.com/gw/1.4.2
/// name gateway-os
/// version 1.4.2
/// bytes 1048576
/// etag 5a17c3e0
/// image-path /var/lib/lwm2m-agent/firmware/image
/// image-size 1048576
/// image-sha256 <64 hex digits>
/// install-pending 0
/// auto-update 0
/// ```
///
/// Strings are percent-encoded (every byte outside `!`…`~`, and `%`, as `%XX`), so a value is
/// one line whatever it holds; ETag and digest are lower-case hex. Lines with keys this
/// version does not know are skipped (an older agent reading the file of a newer one after a
/// rollback still gets the state machine back); a key given twice, a missing `state` or
/// `result`, a malformed value or an inconsistent set of fields is an error.
public enum FirmwarePersistentStateCoding {
    /// The first line.
    public static let header = "lwm2m-agent-firmware-state 1"
    /// Longest ETag kept (bytes).
    public static let maximumETagLength = 255
    /// Longest string value kept (bytes, decoded).
    public static let maximumStringLength = 4096

    /// The text of `state`, ending in a newline.
    public static func encode(_ state: FirmwareUpdateObject.PersistentState) -> String {
        var lines = [header, "state \(state.state.rawValue)", "result \(state.result.rawValue)"]
        if let uri = state.packageURI { lines.append("uri " + percentEncoded(uri)) }
        if let name = state.packageName { lines.append("name " + percentEncoded(name)) }
        if let version = state.packageVersion { lines.append("version " + percentEncoded(version)) }
        lines.append("bytes \(state.bytesDownloaded)")
        if let etag = state.etag { lines.append("etag " + hex(etag)) }
        if let image = state.image {
            lines.append("image-path " + percentEncoded(image.path))
            lines.append("image-size \(image.size)")
            lines.append("image-sha256 " + hex(image.digest))
        }
        lines.append("install-pending \(state.installPending ? 1 : 0)")
        lines.append("auto-update \(state.automaticUpdate ? 1 : 0)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Parses the text of a persisted state (any bytes: the file may be damaged).
    public static func decode(_ bytes: [UInt8]) throws(FirmwareStateParseError) -> FirmwareUpdateObject.PersistentState {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard let first = lines.first, Array(first) == Array(header.utf8) else {
            throw FirmwareStateParseError(line: 1, "not a firmware state file (expected \"\(header)\")")
        }
        var fields: [String: (line: Int, value: ArraySlice<UInt8>)] = [:]
        for (offset, line) in lines.enumerated().dropFirst() {
            let number = offset + 1
            guard let space = line.firstIndex(of: UInt8(ascii: " ")) else {
                throw FirmwareStateParseError(line: number, "expected \"key value\"")
            }
            let key = line[..<space]
            guard !key.isEmpty, key.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw FirmwareStateParseError(line: number, "malformed key")
            }
            let name = String(decoding: key, as: UTF8.self)
            guard fields[name] == nil else { throw FirmwareStateParseError(line: number, "\(name) given twice") }
            fields[name] = (number, line[(space + 1)...])
        }
        let reader = FieldReader(fields: fields)
        var state = FirmwareUpdateObject.PersistentState()
        // Both are required and range-checked by the reader: the enums take every value left.
        let stateNumber = Int(try reader.integer("state", required: true, in: 0...3) ?? 0)
        let resultNumber = Int(try reader.integer("result", required: true, in: 0...11) ?? 0)
        state.state = FirmwareState(rawValue: stateNumber) ?? .idle
        state.result = FirmwareUpdateResult(rawValue: resultNumber) ?? .initial
        state.packageURI = try reader.string("uri")
        state.packageName = try reader.string("name")
        state.packageVersion = try reader.string("version")
        state.bytesDownloaded = try reader.integer("bytes", in: 0...Int64.max) ?? 0
        state.etag = try reader.hex("etag", lengths: 1...maximumETagLength)
        let path = try reader.string("image-path")
        let size = try reader.integer("image-size", in: 0...Int64.max)
        let digest = try reader.hex("image-sha256", lengths: 32...32)
        switch (path, size, digest) {
        case (nil, nil, nil): break
        case (let path?, let size?, let digest?): state.image = FirmwareImage(path: path, size: size, digest: digest)
        default: throw FirmwareStateParseError(line: 0, "image-path, image-size and image-sha256 go together")
        }
        state.installPending = try reader.integer("install-pending", in: 0...1) == 1
        state.automaticUpdate = try reader.integer("auto-update", in: 0...1) == 1
        if let why = state.inconsistency { throw FirmwareStateParseError(line: 0, why) }
        return state
    }

    /// Parses the text of a persisted state.
    public static func decode(_ text: String) throws(FirmwareStateParseError) -> FirmwareUpdateObject.PersistentState {
        try decode(Array(text.utf8))
    }

    // MARK: - Values

    private struct FieldReader {
        let fields: [String: (line: Int, value: ArraySlice<UInt8>)]

        func integer(_ key: String, required: Bool = false, in range: ClosedRange<Int64>)
            throws(FirmwareStateParseError) -> Int64?
        {
            guard let (line, value) = fields[key] else {
                if required { throw FirmwareStateParseError(line: 0, "no \(key) line") }
                return nil
            }
            guard !value.isEmpty, value.count <= 19,
                  value.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
                throw FirmwareStateParseError(line: line, "\(key) is not a decimal number")
            }
            var number: Int64 = 0
            for digit in value {
                let (times, overflow1) = number.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(Int64(digit - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { throw FirmwareStateParseError(line: line, "\(key) is too large") }
                number = sum
            }
            guard range.contains(number) else {
                throw FirmwareStateParseError(line: line, "\(key) \(number) is out of \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }

        func string(_ key: String) throws(FirmwareStateParseError) -> String? {
            guard let (line, value) = fields[key] else { return nil }
            var decoded: [UInt8] = []
            var index = value.startIndex
            while index < value.endIndex {
                let byte = value[index]
                guard byte > 0x20, byte < 0x7F else {
                    throw FirmwareStateParseError(line: line, "\(key) holds an unencoded byte 0x\(String(byte, radix: 16))")
                }
                if byte == UInt8(ascii: "%") {
                    guard index + 2 < value.endIndex, let high = HexDigit.value(value[index + 1]),
                          let low = HexDigit.value(value[index + 2]) else {
                        throw FirmwareStateParseError(line: line, "\(key) has a malformed %-escape")
                    }
                    decoded.append(high << 4 | low)
                    index += 3
                } else {
                    decoded.append(byte)
                    index += 1
                }
                guard decoded.count <= maximumStringLength else {
                    throw FirmwareStateParseError(line: line, "\(key) is too long")
                }
            }
            guard let text = String(validating: decoded, as: UTF8.self) else {
                throw FirmwareStateParseError(line: line, "\(key) is not UTF-8")
            }
            return text
        }

        func hex(_ key: String, lengths: ClosedRange<Int>) throws(FirmwareStateParseError) -> [UInt8]? {
            guard let (line, value) = fields[key] else { return nil }
            guard value.count % 2 == 0, lengths.contains(value.count / 2) else {
                throw FirmwareStateParseError(line: line, "\(key) must be \(lengths.lowerBound)...\(lengths.upperBound) bytes of hex")
            }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(value.count / 2)
            var index = value.startIndex
            while index < value.endIndex {
                guard let high = HexDigit.value(value[index]), let low = HexDigit.value(value[index + 1]) else {
                    throw FirmwareStateParseError(line: line, "\(key) is not hex")
                }
                bytes.append(high << 4 | low)
                index += 2
            }
            return bytes
        }
    }


    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func hex(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func percentEncoded(_ text: String) -> String {
        var out: [UInt8] = []
        for byte in text.utf8 {
            if byte > 0x20, byte < 0x7F, byte != UInt8(ascii: "%") {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension FirmwareUpdateObject.PersistentState {
    /// The state's text (`FirmwarePersistentStateCoding`), for the daemon's state file.
    public func encoded() -> String { FirmwarePersistentStateCoding.encode(self) }

    /// Reads a persisted state back; damaged or inconsistent text is a `FirmwareStateParseError`.
    public init(parsing bytes: [UInt8]) throws(FirmwareStateParseError) {
        self = try FirmwarePersistentStateCoding.decode(bytes)
    }
}
