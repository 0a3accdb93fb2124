extension BoardDefinition.ValueSource {
    /// The value on the machine under `root`: the literal, or the first line of the file with
    /// NULs stripped; nil (the resource is absent) when the file is absent, unreadable or empty.
    public func resolve(in root: SystemRoot) -> String? {
        switch self {
        case .literal(let text): text
        case .file(let path): root.firstLine(path)
        }
    }
}
