/// What one Write-Attributes request asks for (TS 1.1 §5.4.4): attributes to set, and attributes
/// to remove (given without a value, `?pmin`). Parsed from the request's Uri-Query items.
public struct AttributeChanges: Hashable, Sendable {
    /// The attributes given with a value.
    public var set: NotificationAttributes
    /// The attributes given without a value: removed from the target.
    public var removed: Set<NotificationAttributeName>

    /// Changes setting `set` and removing `removed`.
    public init(set: NotificationAttributes = NotificationAttributes(), removed: Set<NotificationAttributeName> = []) {
        self.set = set
        self.removed = removed
    }

    /// Every attribute the request names, set or removed.
    public var names: Set<NotificationAttributeName> {
        removed.union(NotificationAttributeName.allCases.filter { set[$0] != nil })
    }

    /// Parses Uri-Query items such as `pmin=10`, `gt=20.5`, `st` (remove). Periods (pmin, pmax,
    /// epmin, epmax) are unsigned decimal integers up to `NotificationAttributes.maximumPeriod`;
    /// gt, lt and st are decimal numbers (`-2.5`, `1e3`). An unknown attribute, an attribute
    /// given twice, an empty item or value, or a value of the wrong form is `.badRequest`.
    public init(query: [String]) throws(LwM2MError) {
        self.init()
        var seen: Set<NotificationAttributeName> = []
        for item in query {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            guard let name = NotificationAttributeName(rawValue: key) else {
                throw .badRequest("unknown attribute \"\(key)\"")
            }
            guard seen.insert(name).inserted else { throw .badRequest("attribute \(key) given twice") }
            guard parts.count == 2 else {
                removed.insert(name)
                continue
            }
            let text = parts[1]
            switch name {
            case .pmin, .pmax, .epmin, .epmax:
                guard let period = Self.period(text) else {
                    throw .badRequest("\(key) must be a whole number of seconds, not \"\(text)\"")
                }
                switch name {
                case .pmin: set.pmin = period
                case .pmax: set.pmax = period
                case .epmin: set.epmin = period
                default: set.epmax = period
                }
            case .gt, .lt, .st:
                guard let number = Self.number(text) else { throw .badRequest("\(key) must be a number, not \"\(text)\"") }
                switch name {
                case .gt: set.gt = number
                case .lt: set.lt = number
                default: set.st = number
                }
            }
        }
    }

    /// `attributes` with these changes applied: removed ones cleared, given ones replaced.
    public func applied(to attributes: NotificationAttributes) -> NotificationAttributes {
        var result = set.merged(over: attributes)
        for name in removed {
            switch name {
            case .pmin: result.pmin = nil
            case .pmax: result.pmax = nil
            case .gt: result.gt = nil
            case .lt: result.lt = nil
            case .st: result.st = nil
            case .epmin: result.epmin = nil
            case .epmax: result.epmax = nil
            }
        }
        return result
    }

    /// Digits only, at most `maximumPeriod`.
    static func period(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 10, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let value = Int(text), value <= NotificationAttributes.maximumPeriod else { return nil }
        return value
    }

    /// A finite decimal number: optional sign, digits with an optional fraction, optional
    /// exponent. Rejects `inf`, `nan`, hexadecimal and empty text (which `Double(_:)` would
    /// partly accept).
    static func number(_ text: Substring) -> Double? {
        let allowed = "0123456789+-.eE".utf8
        guard !text.isEmpty, text.utf8.count <= 64, text.utf8.allSatisfy({ allowed.contains($0) }),
              text.utf8.contains(where: { $0 >= 48 && $0 <= 57 }),
              let value = Double(text), value.isFinite else { return nil }
        return value
    }
}
