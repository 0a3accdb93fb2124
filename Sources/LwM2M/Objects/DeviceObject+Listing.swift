extension DeviceObject {
    /// Every value the object reports now, one line each (`/3/0/13 Current Time = time(…)`),
    /// executable resources as `(execute)`: for `lwm2m-agent board show`.
    public func reportLines() -> [String] {
        var lines: [String] = []
        for id in resourceIDs(in: 0) {
            let name = definition.resource(id)?.name ?? "?"
            let path = LwM2MPath(3, 0, id)
            guard let content = try? read(path) else {
                lines.append("\(path) \(name) (execute)")
                continue
            }
            for record in content.records(at: path) {
                lines.append("\(record.path) \(name) = \(Self.text(record.value))")
            }
        }
        return lines
    }

    private static func text(_ value: ResourceValue) -> String {
        switch value {
        case .time(let seconds): "\(seconds) (Unix time)"
        default: value.description
        }
    }
}
