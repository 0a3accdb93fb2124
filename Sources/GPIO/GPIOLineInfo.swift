/// Where a line of a given name is and who uses it, as the kernel reports it now.
public struct GPIOLineInfo: Sendable, Equatable {
    /// gpiochipN.
    public var chipName: String
    /// The chip's label (gw-gpio, pinctrl-bcm2711 …).
    public var chipLabel: String
    public var offset: UInt32
    public var name: String
    /// The consumer's label when the line is requested (a process's consumer string, a hog's
    /// name, a kernel driver).
    public var consumer: String?
    /// Requested by someone (a process, a hog, a driver).
    public var isUsed: Bool
    public var isOutput: Bool
    public var isActiveLow: Bool

    public init(chipName: String, chipLabel: String, offset: UInt32, name: String, consumer: String?,
                isUsed: Bool, isOutput: Bool, isActiveLow: Bool) {
        self.chipName = chipName
        self.chipLabel = chipLabel
        self.offset = offset
        self.name = name
        self.consumer = consumer
        self.isUsed = isUsed
        self.isOutput = isOutput
        self.isActiveLow = isActiveLow
    }
}
