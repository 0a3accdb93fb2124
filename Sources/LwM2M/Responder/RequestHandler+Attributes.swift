import CoAP

// Write-Attributes (TS 1.1 §5.4.4) and the attributes Discover lists (§5.4.2).

extension RequestHandler {
    /// Write-Attributes: a PUT whose Uri-Query items are notification attributes, on an object,
    /// instance, resource or resource instance that exists (4.04 otherwise; 4.05 on the root).
    /// gt, lt and st may only be set on a resource (or resource instance) of a numeric type;
    /// unknown attributes, malformed values, a payload, and combinations that break
    /// `NotificationAttributes.validate` are 4.00. Nothing is stored unless the answer is 2.04.
    func writeAttributes(_ message: CoAPMessage, _ path: LwM2MPath, _ registry: ObjectRegistry,
                         _ attributes: inout AttributeStore) throws(LwM2MError) -> CoAPResponse
    {
        guard !path.isRoot else { throw .methodNotAllowed }
        guard message.payload.isEmpty else { throw .badRequest("Write-Attributes carries no payload") }
        let changes = try AttributeChanges(query: message.uriQuery)
        let type = try existingType(path, registry)
        let numeric = NotificationAttributeName.allCases.filter { $0.isNumericOnly && changes.set[$0] != nil }
        if let first = numeric.first {
            guard path.depth >= 3 else { throw .badRequest("\(first) applies to resources only") }
            guard type?.isNumeric == true else { throw .badRequest("\(first) applies to numeric resources only") }
        }
        try attributes.apply(changes, at: path)
        return CoAPResponse(.changed)
    }

    /// Checks that `path` exists (4.04 otherwise) and returns its resource type for a resource
    /// or resource-instance path, nil for an object or instance.
    private func existingType(_ path: LwM2MPath, _ registry: ObjectRegistry) throws(LwM2MError) -> ResourceType? {
        let object = try registry.target(path)
        guard let resourcePath = path.resourcePath else { return nil }
        let resource = try registry.presentResource(object, resourcePath)
        if case .resourceInstance(_, let instance) = path.kind {
            guard resource.isMultiple, case .multiple(let instances) = try object.read(resourcePath.path),
                  instances[instance] != nil else { throw .notFound }
        }
        return resource.type
    }

    /// Discover `entries` for `target` with the attributes attached at each entry's path
    /// appended (after `dim`). A Discover of a resource lists the attributes it inherits from
    /// its instance and object as well (the TS 1.1 §5.4.2 example
    /// `</3/0/7>;dim=8;pmin=10;pmax=60;gt=50;lt=42.2`); server defaults are not listed.
    static func attaching(_ attributes: AttributeStore, to entries: [LinkEntry], target: LwM2MPath) -> [LinkEntry] {
        entries.map { entry in
            guard let path = entry.path else { return entry }
            let attached = target.isResource && path == target
                ? attributes.inherited(for: path) : attributes.attributes(at: path)
            var entry = entry
            entry.attributes += attached.linkAttributes
            return entry
        }
    }
}
