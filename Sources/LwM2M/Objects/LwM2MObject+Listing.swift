extension LwM2MObject {
    /// Every value the object reports now, one line per value (resource instances one each:
    /// `/3/0/13 Current Time = 1796… (Unix time)`), and with `executables` the executable
    /// resources as `(execute)`: for `lwm2m-agent board show`. `escape` cleans each value for a
    /// terminal (kernel files and server writes may hold control characters).
    public func reportLines(executables: Bool = true, escape: (String) -> String = { $0 }) -> [String] {
        var lines: [String] = []
        for instance in instanceIDs {
            for id in resourceIDs(in: instance) {
                guard let resource = definition.resource(id) else { continue }
                let path = LwM2MPath(definition.id, instance, id)
                if resource.operations.contains(.read), let content = try? read(path) {
                    for record in content.records(at: path) {
                        let value = if case .time(let seconds) = record.value { "\(seconds) (Unix time)" }
                                    else { escape(record.value.description) }
                        lines.append("\(record.path) \(resource.name) = \(value)")
                    }
                } else if executables, resource.operations.contains(.execute) {
                    lines.append("\(path) \(resource.name) (execute)")
                }
            }
        }
        return lines
    }
}
