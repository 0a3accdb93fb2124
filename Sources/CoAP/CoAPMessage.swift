/// A CoAP message (RFC 7252 §3) as a value: header fields, token, options and payload.
///
/// `options` is kept sorted by option number (stable for repeated options) by every mutator;
/// the encoder restores the order if a caller assigned an unsorted array directly.
public struct CoAPMessage: Hashable, Sendable {
    public var type: MessageType
    public var code: CoAPCode
    public var messageID: UInt16
    public var token: Token
    public var options: [CoAPOption]
    public var payload: [UInt8]

    public init(
        type: MessageType, code: CoAPCode, messageID: UInt16 = 0, token: Token = .empty,
        options: [CoAPOption] = [], payload: [UInt8] = []
    ) {
        self.type = type
        self.code = code
        self.messageID = messageID
        self.token = token
        self.options = options
        self.payload = payload
        if !options.isSortedByNumber { self.options = options.sortedByNumber() }
    }

    /// An empty message (code 0.00) of the given type: an ACK, an RST or a CoAP ping.
    public static func empty(_ type: MessageType, messageID: UInt16) -> CoAPMessage {
        CoAPMessage(type: type, code: .empty, messageID: messageID)
    }

    /// True for a 0.00 message (which is encoded as the bare header: no token, options or payload).
    @inlinable public var isEmpty: Bool { code.isEmpty }
}

// MARK: - Option access

extension CoAPMessage {
    /// The first value of `number`, if present.
    @inlinable
    public func firstValue(_ number: OptionNumber) -> [UInt8]? {
        for option in options where option.number == number { return option.value }
        return nil
    }

    /// Whether `number` is present.
    @inlinable
    public func contains(_ number: OptionNumber) -> Bool {
        options.contains { $0.number == number }
    }

    /// The first value of `number` read as a uint; `nil` if absent or longer than 4 bytes.
    @inlinable
    public func uintValue(_ number: OptionNumber) -> UInt32? {
        firstValue(number).flatMap(decodeUInt)
    }

    /// All values of a repeatable string option, in order.
    public func strings(_ number: OptionNumber) -> [String] {
        options.lazy.filter { $0.number == number }.map(\.stringValue)
    }

    /// Appends an instance of an option, keeping the list sorted (after existing equal numbers).
    public mutating func addOption(_ option: CoAPOption) {
        var index = options.endIndex
        while index > options.startIndex, options[index - 1].number > option.number { index -= 1 }
        options.insert(option, at: index)
    }

    /// Removes every instance of `number`.
    public mutating func removeOption(_ number: OptionNumber) {
        options.removeAll { $0.number == number }
    }

    /// Replaces every instance of `number` with one carrying `value` (or removes it when `nil`).
    public mutating func setOption(_ number: OptionNumber, _ value: [UInt8]?) {
        removeOption(number)
        if let value { addOption(CoAPOption(number, value)) }
    }

    /// Replaces every instance of `number` with one uint value (or removes it when `nil`).
    public mutating func setUInt(_ number: OptionNumber, _ value: UInt32?) {
        setOption(number, value.map(encodeUInt))
    }

    /// Uri-Path segments.
    public var uriPath: [String] {
        get { strings(.uriPath) }
        set { setStrings(.uriPath, newValue) }
    }

    /// Uri-Query items, each `key=value` or `key`.
    public var uriQuery: [String] {
        get { strings(.uriQuery) }
        set { setStrings(.uriQuery, newValue) }
    }

    /// Location-Path segments.
    public var locationPath: [String] {
        get { strings(.locationPath) }
        set { setStrings(.locationPath, newValue) }
    }

    /// The Uri-Path joined with "/" and a leading "/", e.g. "/3/0/1".
    public var path: String { "/" + uriPath.joined(separator: "/") }

    /// Replaces all values of a repeatable string option.
    public mutating func setStrings(_ number: OptionNumber, _ values: [String]) {
        removeOption(number)
        for value in values { addOption(CoAPOption(number, string: value)) }
    }

    public var contentFormat: UInt16? {
        get { uintValue(.contentFormat).flatMap { UInt16(exactly: $0) } }
        set { setUInt(.contentFormat, newValue.map(UInt32.init)) }
    }

    public var accept: UInt16? {
        get { uintValue(.accept).flatMap { UInt16(exactly: $0) } }
        set { setUInt(.accept, newValue.map(UInt32.init)) }
    }

    /// The Observe option: 0 registers, 1 deregisters in requests; a sequence number in notifications.
    public var observe: UInt32? {
        get { uintValue(.observe) }
        set { setUInt(.observe, newValue) }
    }

    public var block1: BlockValue? {
        get { uintValue(.block1).flatMap(BlockValue.init(rawValue:)) }
        set { setUInt(.block1, newValue?.rawValue) }
    }

    public var block2: BlockValue? {
        get { uintValue(.block2).flatMap(BlockValue.init(rawValue:)) }
        set { setUInt(.block2, newValue?.rawValue) }
    }

    public var size1: UInt32? {
        get { uintValue(.size1) }
        set { setUInt(.size1, newValue) }
    }

    public var size2: UInt32? {
        get { uintValue(.size2) }
        set { setUInt(.size2, newValue) }
    }

    public var maxAge: UInt32? {
        get { uintValue(.maxAge) }
        set { setUInt(.maxAge, newValue) }
    }

    public var eTag: [UInt8]? {
        get { firstValue(.eTag) }
        set { setOption(.eTag, newValue) }
    }
}

extension Array where Element == CoAPOption {
    @usableFromInline var isSortedByNumber: Bool {
        var previous: UInt16 = 0
        for option in self {
            if option.number.rawValue < previous { return false }
            previous = option.number.rawValue
        }
        return true
    }

    /// A stable sort by option number (the order of repeated options is meaningful).
    @usableFromInline func sortedByNumber() -> [CoAPOption] {
        enumerated().sorted {
            $0.element.number != $1.element.number ? $0.element.number < $1.element.number : $0.offset < $1.offset
        }.map(\.element)
    }
}
