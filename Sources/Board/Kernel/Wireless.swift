/// The link statistics of one wireless interface, from `/proc/net/wireless`.
public struct WirelessLink: Hashable, Sendable {
    public let interface: String
    /// The link quality in the driver's scale (cfg80211 drivers: 0–70).
    public let linkQuality: Int64?
    /// The received signal level in dBm; nil when the driver reports no dBm value.
    public let signalDBm: Int64?
    /// The noise level in dBm; nil when not reported (cfg80211 prints -256).
    public let noiseDBm: Int64?

    public init(interface: String, linkQuality: Int64?, signalDBm: Int64?, noiseDBm: Int64?) {
        self.interface = interface
        self.linkQuality = linkQuality
        self.signalDBm = signalDBm
        self.noiseDBm = noiseDBm
    }
}

/// Reads `/proc/net/wireless` (the Wireless Extensions statistics, which cfg80211 fills for every
/// nl80211 driver): two header lines, then per interface `name: status link level noise
/// nwid crypt frag retry misc beacon`, each of link/level/noise followed by `.` when updated.
/// A level above zero is not in dBm (old drivers' relative scale) and is left out; lines that do
/// not parse are skipped.
public enum Wireless {
    public static let path = "/proc/net/wireless"

    /// The wireless interfaces under `root`; empty when the file is absent (no Wi-Fi, or a kernel
    /// without Wireless Extensions compatibility).
    public static func links(in root: SystemRoot) -> [WirelessLink] {
        parse(root.text(path) ?? "")
    }

    /// The link of interface `name`, if listed.
    public static func link(_ name: String, in root: SystemRoot) -> WirelessLink? {
        links(in: root).first { $0.interface == name }
    }

    /// The interfaces of a `/proc/net/wireless` text.
    public static func parse(_ text: String) -> [WirelessLink] {
        var links: [WirelessLink] = []
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters()
            let fields = line[line.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\t" })
            // Header lines ("Inter-| sta-|", " face | tus |") have no colon-terminated name.
            guard !name.isEmpty, !name.contains("|"), fields.count >= 4, UInt32(fields[0], radix: 16) != nil else {
                continue
            }
            let level = number(fields[2])
            let noise = number(fields[3])
            links.append(WirelessLink(interface: name, linkQuality: number(fields[1]).flatMap { $0 >= 0 ? $0 : nil },
                                      signalDBm: level.flatMap { $0 < 0 && $0 > -256 ? $0 : nil },
                                      noiseDBm: noise.flatMap { $0 < 0 && $0 > -256 ? $0 : nil }))
        }
        return links
    }

    /// `70.`, `-40.`, `-256` as an integer.
    private static func number(_ field: Substring) -> Int64? {
        Int64(field.hasSuffix(".") ? field.dropLast() : field)
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
