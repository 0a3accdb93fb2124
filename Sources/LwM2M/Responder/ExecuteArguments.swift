/// One Execute argument (TS 1.1 §5.4.5): a digit, optionally with a quoted value.
public struct ExecuteArgument: Hashable, Sendable {
    /// The argument number, 0...9.
    public var id: UInt8
    /// The value between the single quotes, nil when the argument has none.
    public var value: String?

    public init(id: UInt8, value: String? = nil) {
        self.id = id
        self.value = value
    }

    /// Parses an Execute payload: empty, or `arg *("," arg)` with `arg = DIGIT ["='" *CHAR "'"]`
    /// where CHAR is a printable ASCII character other than space, `"`, `'` and `\`
    /// (`0='abc',1`). Anything else is `.badRequest`.
    public static func parse(_ payload: [UInt8]) throws(LwM2MError) -> [ExecuteArgument] {
        var arguments: [ExecuteArgument] = []
        var i = 0
        guard !payload.isEmpty else { return [] }
        while true {
            guard i < payload.count, payload[i] >= 0x30, payload[i] <= 0x39 else {
                throw .badRequest("Execute argument \(arguments.count) does not start with a digit")
            }
            var argument = ExecuteArgument(id: payload[i] - 0x30)
            i += 1
            if i < payload.count, payload[i] == UInt8(ascii: "=") {
                guard i + 1 < payload.count, payload[i + 1] == UInt8(ascii: "'") else {
                    throw .badRequest("Execute argument \(argument.id): the value must be in single quotes")
                }
                i += 2
                let start = i
                while i < payload.count, payload[i] != UInt8(ascii: "'") {
                    guard isValueCharacter(payload[i]) else {
                        throw .badRequest("Execute argument \(argument.id): invalid character in the value")
                    }
                    i += 1
                }
                guard i < payload.count else { throw .badRequest("Execute argument \(argument.id): unterminated value") }
                argument.value = String(decoding: payload[start..<i], as: UTF8.self)
                i += 1
            }
            arguments.append(argument)
            if i == payload.count { return arguments }
            guard payload[i] == UInt8(ascii: ",") else {
                throw .badRequest("Execute arguments must be separated by commas")
            }
            i += 1
        }
    }

    /// `CHAR = "!" / %x23-26 / %x28-5B / %x5D-7E`.
    static func isValueCharacter(_ byte: UInt8) -> Bool {
        byte == 0x21 || (0x23...0x26).contains(byte) || (0x28...0x5B).contains(byte) || (0x5D...0x7E).contains(byte)
    }
}
