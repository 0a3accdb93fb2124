/// Base64 (RFC 4648 §4) and base64url (§5), with or without padding, and strict decoding.
///
/// Where LwM2M uses which:
///   * SenML JSON `vd` (content format 110): base64url without padding (RFC 8428 §4.3/§5);
///   * plain text opaque and LwM2M JSON `sv` for opaque (11543): base64 with padding (TS 1.1
///     Appendix C, TS 1.0 §6.4.4).
///
/// Strict decoding rejects whitespace, characters outside the alphabet, misplaced or (per the
/// `Padding` mode) missing or unexpected `=`, a length of 1 mod 4, and non-zero bits left over in
/// the last character (so every byte string has exactly one accepted encoding per mode).
public enum Base64 {
    public enum Alphabet: Hashable, Sendable {
        /// `A–Z a–z 0–9 + /` (RFC 4648 §4).
        case standard
        /// `A–Z a–z 0–9 - _` (RFC 4648 §5).
        case url
    }

    public enum Padding: Hashable, Sendable {
        /// Input length must be a multiple of 4, padded with `=`.
        case required
        /// No `=` allowed.
        case forbidden
        /// Either form, but padding when present must be complete and correct.
        case optional
    }

    /// Encodes `bytes`; `padded` appends `=` to a multiple of 4 characters.
    public static func encode<Bytes: Collection>(_ bytes: Bytes, alphabet: Alphabet = .standard,
                                                 padded: Bool = true) -> String where Bytes.Element == UInt8 {
        let table: [UInt8] = Array((alphabet == .standard
            ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
            : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_").utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let b0 = iterator.next() {
            let b1 = iterator.next()
            let b2 = b1 == nil ? nil : iterator.next()
            out.append(table[Int(b0 >> 2)])
            out.append(table[Int((b0 & 0x03) << 4 | (b1 ?? 0) >> 4)])
            if let b1 {
                out.append(table[Int((b1 & 0x0F) << 2 | (b2 ?? 0) >> 6)])
            } else if padded {
                out.append(UInt8(ascii: "="))
            }
            if let b2 {
                out.append(table[Int(b2 & 0x3F)])
            } else if padded {
                out.append(UInt8(ascii: "="))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `text` strictly in one alphabet; nil when it is not a canonical encoding.
    public static func decode(_ text: String, alphabet: Alphabet = .standard,
                              padding: Padding = .required) -> [UInt8]? {
        decode(Array(text.utf8), alphabet: alphabet, padding: padding)
    }

    /// Decodes `text` in either alphabet (not a mix of the two), padded or not. For peers that
    /// disagree on the alphabet, e.g. SenML JSON `vd` sent as plain base64 by LwM2M clients
    /// that followed the TS text rather than RFC 8428.
    public static func decodeEitherAlphabet(_ text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        return decode(bytes, alphabet: .url, padding: .optional)
            ?? decode(bytes, alphabet: .standard, padding: .optional)
    }

    /// Decodes the ASCII bytes `input` strictly in one alphabet; nil when it is not a canonical
    /// encoding.
    public static func decode(_ input: [UInt8], alphabet: Alphabet = .standard,
                              padding: Padding = .required) -> [UInt8]? {
        var count = input.count
        var padCount = 0
        while padCount < 2, count > 0, input[count - 1] == UInt8(ascii: "=") {
            count -= 1
            padCount += 1
        }
        switch padding {
        case .required:
            guard input.count % 4 == 0 else { return nil }
        case .forbidden:
            guard padCount == 0 else { return nil }
        case .optional:
            guard padCount == 0 || input.count % 4 == 0 else { return nil }
        }
        // With padding the unpadded length must be exactly what the padding implies.
        if padCount > 0 && count % 4 != 4 - padCount { return nil }
        guard count % 4 != 1 else { return nil }

        var out: [UInt8] = []
        out.reserveCapacity(count / 4 * 3 + 2)
        var accumulator: UInt32 = 0
        var bits = 0
        for i in 0..<count {
            guard let sextet = value(of: input[i], alphabet: alphabet) else { return nil }
            accumulator = accumulator << 6 | UInt32(sextet)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        // Leftover bits (2 or 4) must be zero: otherwise another encoding of the same bytes.
        guard accumulator == 0 else { return nil }
        return out
    }

    private static func value(of byte: UInt8, alphabet: Alphabet) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+") where alphabet == .standard: 62
        case UInt8(ascii: "/") where alphabet == .standard: 63
        case UInt8(ascii: "-") where alphabet == .url: 62
        case UInt8(ascii: "_") where alphabet == .url: 63
        default: nil
        }
    }
}
