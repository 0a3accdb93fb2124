/// The conditions /3/0/11 Error Code reports (codes from OMA 3.xml; 16..32 are device specific).
public enum DeviceErrorCode: Int64, Hashable, Sendable, CaseIterable, Comparable {
    /// 1: the internal battery's level is below the threshold, or the kernel says it is low.
    case lowBattery = 1
    /// 2: an external supply (mains, USB, DC …) the kernel describes is offline.
    case externalPowerOff = 2
    /// 5: available memory (MemAvailable) is below the threshold.
    case outOfMemory = 5
    /// 16 (device specific): the file system holding the agent's state is (nearly) full.
    case storageFull = 16

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// When a reading counts as an error condition.
public struct DeviceThresholds: Hashable, Sendable {
    /// Battery Level (%) below which Error Code 1 is reported.
    public var lowBatteryPercent: Int64
    /// Memory Free below this percentage of Memory Total raises Error Code 5.
    public var lowMemoryPercent: Int64

    public init(lowBatteryPercent: Int64 = 10, lowMemoryPercent: Int64 = 5) {
        self.lowBatteryPercent = lowBatteryPercent
        self.lowMemoryPercent = lowMemoryPercent
    }
}
