/// The names of the LwM2M notification attributes (TS 1.1 §5.1.2, Table 5.1.2-2), in the order
/// they are written in a Discover answer.
public enum NotificationAttributeName: String, CaseIterable, Hashable, Sendable {
    /// Minimum Period (seconds).
    case pmin
    /// Maximum Period (seconds).
    case pmax
    /// Greater Than (threshold; numeric resources only).
    case gt
    /// Less Than (threshold; numeric resources only).
    case lt
    /// Step (numeric resources only).
    case st
    /// Minimum Evaluation Period (seconds).
    case epmin
    /// Maximum Evaluation Period (seconds).
    case epmax

    /// gt, lt and st: attached to resources (or resource instances) of a numeric type only.
    public var isNumericOnly: Bool { self == .gt || self == .lt || self == .st }
}

/// The notification attributes attached at one level (object, instance, resource or resource
/// instance), or the effective set for an observation after merging the levels. `nil` means
/// "not set here". Periods are whole seconds; thresholds and the step are numbers.
public struct NotificationAttributes: Hashable, Sendable {
    /// The largest period accepted (about 136 years; 68 where `Int` has 32 bits), so deadlines
    /// never overflow. `Int(UInt32.max)` would trap on a 32-bit `Int` (armv7).
    public static let maximumPeriod = Int(clamping: UInt32.max)

    /// Minimum Period: seconds to wait after a notification before the next one.
    public var pmin: Int?
    /// Maximum Period: seconds after which a notification is sent even without change
    /// (ignored unless greater than pmin).
    public var pmax: Int?
    /// Greater Than: notify when the value crosses this threshold.
    public var gt: Double?
    /// Less Than: notify when the value crosses this threshold.
    public var lt: Double?
    /// Step: notify when the value moved at least this much from the last notified value.
    public var st: Double?
    /// Minimum Evaluation Period: seconds between two evaluations of a change.
    public var epmin: Int?
    /// Maximum Evaluation Period: seconds after which the value is sampled even without a
    /// change report (ignored unless greater than epmin).
    public var epmax: Int?

    /// Attributes with the given values (all unset by default).
    public init(pmin: Int? = nil, pmax: Int? = nil, gt: Double? = nil, lt: Double? = nil, st: Double? = nil,
                epmin: Int? = nil, epmax: Int? = nil) {
        self.pmin = pmin
        self.pmax = pmax
        self.gt = gt
        self.lt = lt
        self.st = st
        self.epmin = epmin
        self.epmax = epmax
    }

    /// Whether no attribute is set.
    public var isEmpty: Bool { self == NotificationAttributes() }

    /// Whether gt, lt or st is set.
    public var hasNumericConditions: Bool { gt != nil || lt != nil || st != nil }

    /// The value of attribute `name` as a number, nil when not set.
    public subscript(name: NotificationAttributeName) -> Double? {
        switch name {
        case .pmin: pmin.map(Double.init)
        case .pmax: pmax.map(Double.init)
        case .gt: gt
        case .lt: lt
        case .st: st
        case .epmin: epmin.map(Double.init)
        case .epmax: epmax.map(Double.init)
        }
    }

    /// The attributes set here, each taking precedence over `fallback`'s (a more specific level
    /// over a less specific one).
    public func merged(over fallback: NotificationAttributes) -> NotificationAttributes {
        NotificationAttributes(
            pmin: pmin ?? fallback.pmin, pmax: pmax ?? fallback.pmax, gt: gt ?? fallback.gt, lt: lt ?? fallback.lt,
            st: st ?? fallback.st, epmin: epmin ?? fallback.epmin, epmax: epmax ?? fallback.epmax)
    }

    /// pmax when it is usable: pmax must be greater than pmin (0 when absent), otherwise it is
    /// ignored (TS 1.1 §5.1.2).
    public var effectivePmax: Int? {
        guard let pmax, pmax > (pmin ?? 0) else { return nil }
        return pmax
    }

    /// Checks the combinations a Write-Attributes must not leave behind (TS 1.1 §5.1.2):
    /// `lt < gt`, `lt + 2*st < gt`, `epmax > epmin`; `st` is not negative. A pmax not above
    /// pmin is not an error (it is ignored, see `effectivePmax`). Throws `.badRequest`.
    public func validate() throws(LwM2MError) {
        if let st, st < 0 { throw .badRequest("st must not be negative") }
        if let lt, let gt {
            guard lt < gt else { throw .badRequest("lt must be less than gt") }
            if let st, !(lt + 2 * st < gt) { throw .badRequest("lt + 2*st must be less than gt") }
        }
        if let epmin, let epmax, epmax <= epmin { throw .badRequest("epmax must be greater than epmin") }
    }

    // MARK: - Link format

    /// The attributes set, as link-format attributes in the order pmin, pmax, gt, lt, st, epmin,
    /// epmax: `pmin=10`, `gt=50`, `lt=-2.5`.
    public var linkAttributes: [LinkAttribute] {
        NotificationAttributeName.allCases.compactMap { name in
            switch name {
            case .pmin: pmin.map { LinkAttribute("pmin", String($0)) }
            case .pmax: pmax.map { LinkAttribute("pmax", String($0)) }
            case .gt: gt.map { LinkAttribute("gt", Self.format($0)) }
            case .lt: lt.map { LinkAttribute("lt", Self.format($0)) }
            case .st: st.map { LinkAttribute("st", Self.format($0)) }
            case .epmin: epmin.map { LinkAttribute("epmin", String($0)) }
            case .epmax: epmax.map { LinkAttribute("epmax", String($0)) }
            }
        }
    }

    /// A number as written in link format: integral values without a fraction (`50`), others
    /// with Swift's shortest round-trip form (`20.5`).
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
