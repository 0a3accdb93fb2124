/// The notification attributes a server attached with Write-Attributes, by path, and the
/// server's defaults (Default Minimum/Maximum Period, /1/x/2 and /1/x/3). Attributes belong to
/// the server that wrote them: the agent keeps one store per Short Server ID and hands the
/// requesting server's to `RequestHandler.handle(_:registry:server:attributes:)` and that
/// server's `ReportingEngine`.
///
/// Precedence (TS 1.1 §5.1.2): resource instance > resource > object instance > object >
/// server defaults, attribute by attribute. The defaults only fill in what no level sets: a
/// pmax set at any level is used as it is, longer than Default Maximum Period or not.
public struct AttributeStore: Hashable, Sendable {
    /// The attributes attached at each path (never empty sets).
    public private(set) var attached: [LwM2MPath: NotificationAttributes] = [:]
    /// The server's defaults: only `pmin` and `pmax` are meaningful.
    public var defaults: NotificationAttributes

    /// An empty store with the given server defaults.
    public init(defaults: NotificationAttributes = NotificationAttributes()) {
        self.defaults = defaults
    }

    /// The attributes attached at exactly `path` (empty if none).
    public func attributes(at path: LwM2MPath) -> NotificationAttributes {
        attached[path] ?? NotificationAttributes()
    }

    /// Replaces the attributes attached at `path` (an empty set removes the entry).
    public mutating func setAttributes(_ attributes: NotificationAttributes, at path: LwM2MPath) {
        attached[path] = attributes.isEmpty ? nil : attributes
    }

    /// Applies a Write-Attributes to `path` after checking the resulting set
    /// (`NotificationAttributes.validate`); on failure nothing changes.
    public mutating func apply(_ changes: AttributeChanges, at path: LwM2MPath) throws(LwM2MError) {
        let result = changes.applied(to: attributes(at: path))
        try result.validate()
        setAttributes(result, at: path)
    }

    /// The attributes inherited by `path` from its own level and every level above it, without
    /// the server defaults (what Discover of a resource reports).
    public func inherited(for path: LwM2MPath) -> NotificationAttributes {
        var result = NotificationAttributes()
        var level = path
        while !level.isRoot {
            result = result.merged(over: attributes(at: level))
            level = level.parent
        }
        return result
    }

    /// The attributes in effect for an observation of `path`: `inherited(for:)` over the server
    /// defaults.
    public func effective(for path: LwM2MPath) -> NotificationAttributes {
        inherited(for: path).merged(over: defaults)
    }

    /// Forgets the attributes attached at `path` and below it (the target was deleted).
    public mutating func removeAll(under path: LwM2MPath) {
        attached = attached.filter { !path.contains($0.key) }
    }

    /// Reads the server defaults from Server object instance `instance`: Default Minimum Period
    /// (/1/instance/2) and Default Maximum Period (/1/instance/3). Absent, unreadable or
    /// negative values leave the corresponding default unset.
    public mutating func loadServerDefaults(from registry: ObjectRegistry, instance: UInt16) {
        func period(_ resource: UInt16) -> Int? {
            guard let records = try? registry.records(at: LwM2MPath(1, instance, resource)), records.count == 1,
                  let value = records[0].value.numericValue, value >= 0,
                  value <= Double(NotificationAttributes.maximumPeriod) else { return nil }
            return Int(value)
        }
        defaults.pmin = period(2)
        defaults.pmax = period(3)
    }
}
