import LwM2M

// What `lwm2m-agent status` shows of the Firmware Update object and its download.

extension FirmwareRunner {
    /// A download logs its progress at least this often while bytes arrive (besides every 10 %).
    static let progressLogInterval: Duration = .seconds(30)

    /// State, Update Result, the package's identity and, while Downloading, the bytes so far.
    var status: AgentStatus.Firmware {
        let current = object.persistentState
        var download: AgentStatus.Firmware.Download?
        if current.state == .downloading {
            let pulling = current.packageURI != nil
            download = AgentStatus.Firmware.Download(
                delivery: pulling ? "pull" : "push", uri: current.packageURI.map(Self.withoutCredentials),
                bytes: current.bytesDownloaded, total: pulling ? downloadTotal : nil)
        }
        return AgentStatus.Firmware(
            state: current.state.rawValue, stateName: current.state.description, result: current.result.rawValue,
            resultText: current.result.description, packageName: current.packageName,
            packageVersion: current.packageVersion, download: download)
    }

    /// `uri` without user information (`user:password@`) and without query or fragment (a
    /// signed URL's token): what may be shown and logged of a Package URI.
    static func withoutCredentials(_ uri: String) -> String {
        var bytes = Array(uri.utf8)
        if let end = bytes.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) {
            bytes.removeSubrange(end...)
        }
        // The authority runs from "://" to the next "/"; user information ends at its last "@".
        guard let colon = bytes.indices.first(where: { index in
            index + 2 < bytes.count && bytes[index] == UInt8(ascii: ":") && bytes[index + 1] == UInt8(ascii: "/")
                && bytes[index + 2] == UInt8(ascii: "/")
        }) else { return String(decoding: bytes, as: UTF8.self) }
        let authorityStart = colon + 3
        let authorityEnd = bytes[authorityStart...].firstIndex(of: UInt8(ascii: "/")) ?? bytes.endIndex
        if let at = bytes[authorityStart..<authorityEnd].lastIndex(of: UInt8(ascii: "@")) {
            bytes.removeSubrange(authorityStart...at)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
