/// One temperature sensor behind an instance of the IPSO Temperature object (3303): a thermal
/// zone of the kernel on a board, a fixed or scripted value in tests. The object asks it for a
/// reading whenever a server reads the instance and on every sample; it never caches readings
/// itself.
public protocol TemperatureSensor: AnyObject {
    /// What the sensor measures, reported as Application Type (5750): the thermal zone's `type`
    /// (`cpu-thermal`, `x86_pkg_temp`); nil when unknown (the resource is then absent).
    var applicationType: String? { get }

    /// The lowest temperature the sensor can report, °C: Min Range Value (5603); nil when the
    /// source does not say (absent).
    var rangeMinimum: Double? { get }

    /// The highest temperature the sensor can report, °C: Max Range Value (5604); nil when the
    /// source does not say (absent).
    var rangeMaximum: Double? { get }

    /// The current temperature in °C, or nil when the sensor cannot be read now (the file is
    /// unreadable, gone or holds no number): Sensor Value (5700) is then absent.
    func celsius() -> Double?
}
