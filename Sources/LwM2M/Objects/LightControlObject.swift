import Time

/// The IPSO Light Control object (3311), one instance per LED (instance IDs 0, 1, … in the
/// order given):
///
/// - On/Off (5850): switches the LED; On with Dimmer 0 leaves it dark but On/Off stays true.
/// - Dimmer (5851, 0...100, only for an LED with brightness levels, `maximumBrightness > 1`):
///   the LED shows `round(dimmer × maximumBrightness / 100)` while on; a write while off is kept
///   for the next switch-on. Default 100.
/// - On Time (5852, s): whole seconds since this object switched the LED on (since start for
///   an LED found on), 0 while off; a write of 0 restarts the count, any other value is 4.00.
///   It advances without requests: ``sample(now:)`` reports it whenever the whole seconds
///   changed.
/// - Application Type (5750): the board's text (the section name); a server's write is kept in
///   memory.
///
/// A driver that refuses the new brightness makes the write 5.00 with the
/// ``HardwareAccessError`` text, and nothing changes.
public final class LightControlObject: SampledObject {
    /// One LED and its settings from the board.
    public struct Light {
        /// The LED (a GPIO line or a `/sys/class/leds` LED).
        public var driver: any LightDriver
        /// Application Type (5750) until a server writes another; nil: absent.
        public var applicationType: String?

        public init(driver: any LightDriver, applicationType: String? = nil) {
            self.driver = driver
            self.applicationType = applicationType
        }
    }

    /// The resource IDs of object 3311 this object serves.
    public enum Resource {
        public static let onOff: UInt16 = 5850
        public static let dimmer: UInt16 = 5851
        public static let onTime: UInt16 = 5852
        public static let applicationType: UInt16 = 5750
    }

    /// Object 3311 as the OMA registry defines it (`OMAObjects`).
    public let definition: ObjectDefinition
    /// Set by `ObjectRegistry.register`; called for every value that changed.
    public var changeHandler: ((LwM2MPath) -> Void)?

    private struct Lamp {
        let driver: any LightDriver
        let boardApplicationType: String?
        var applicationType: String?
        var isOn: Bool
        /// 0...100.
        var dimmer: Int64
        /// When On Time counts from (set while on).
        var onSince: Instant?
        /// The On Time last reported by `sample(now:)` or a write.
        var reportedOnTime: Int64 = 0

        /// The LED's brightest level, at least 1.
        var maximum: Int64 { max(1, Int64(driver.maximumBrightness)) }
        var isDimmable: Bool { maximum > 1 }

        /// The brightness showing `dimmer` percent: round(dimmer × maximum / 100).
        func brightness(dimmer: Int64) -> Int { Int((dimmer * maximum + 50) / 100) }
    }

    private var lamps: [Lamp]
    private let clock: () -> Instant

    /// One instance per light, each found as it is: an LED with a brightness above 0 is on
    /// (On Time counting from now, Dimmer its brightness in percent, at least 1); an LED off or
    /// unreadable is off with Dimmer 100. Nothing is driven. `clock` gives the loop's monotonic
    /// time (On Time); tests pass a virtual clock. At most 65535 lights; any beyond are ignored.
    public init(lights: [Light], clock: @escaping () -> Instant) {
        definition = OMAObjects.definition(3311)!
        self.clock = clock
        let now = clock()
        lamps = lights.prefix(65535).map { light in
            var lamp = Lamp(driver: light.driver, boardApplicationType: light.applicationType,
                            applicationType: light.applicationType, isOn: false, dimmer: 100)
            let brightness = Int64((try? light.driver.brightness()) ?? 0)
            if brightness > 0 {
                lamp.isOn = true
                lamp.onSince = now
                if lamp.isDimmable {
                    lamp.dimmer = max(1, min(100, (min(brightness, lamp.maximum) * 100 + lamp.maximum / 2) / lamp.maximum))
                }
            }
            return lamp
        }
    }

    /// Whether `instance` is on (5850), nil for an unknown instance (for tests and `board show`).
    public func isOn(_ instance: UInt16) -> Bool? {
        Int(instance) < lamps.count ? lamps[Int(instance)].isOn : nil
    }

    // MARK: - LwM2MObject

    public var instanceIDs: [UInt16] { lamps.indices.map { UInt16($0) } }

    public func resourceIDs(in instance: UInt16) -> [UInt16] {
        guard Int(instance) < lamps.count else { return [] }
        let lamp = lamps[Int(instance)]
        var ids = [Resource.applicationType, Resource.onOff, Resource.dimmer, Resource.onTime]
        if lamp.applicationType == nil { ids.removeFirst() }
        if !lamp.isDimmable { ids.removeAll { $0 == Resource.dimmer } }
        return ids
    }

    public func read(_ path: LwM2MPath) throws(LwM2MError) -> ResourceContent {
        let (index, resource) = try ids(of: path)
        let lamp = lamps[index]
        switch resource {
        case Resource.onOff: return .single(.boolean(lamp.isOn))
        case Resource.dimmer where lamp.isDimmable: return .single(.integer(lamp.dimmer))
        case Resource.onTime: return .single(.integer(onTime(lamp)))
        case Resource.applicationType:
            guard let text = lamp.applicationType else { throw .notFound }
            return .single(.string(text))
        default: throw .notFound
        }
    }

    /// On/Off and Dimmer drive the LED (5.00 when it refuses); On Time takes 0 only;
    /// Application Type is kept in memory. Values of the wrong type or out of range are 4.00.
    public func write(_ path: LwM2MPath, _ content: ResourceContent) throws(LwM2MError) {
        let (index, resource) = try ids(of: path)
        var lamp = lamps[index]
        var changed: [UInt16] = []
        switch resource {
        case Resource.onOff:
            guard case .single(.boolean(let on)) = content else { throw .badRequest("On/Off (5850) is a single boolean") }
            try drive(lamp, on ? lamp.brightness(dimmer: lamp.dimmer) : 0)
            if on != lamp.isOn {
                lamp.isOn = on
                lamp.onSince = on ? clock() : nil
                changed.append(Resource.onOff)
            }
        case Resource.dimmer where lamp.isDimmable:
            guard case .single(.integer(let dimmer)) = content else {
                throw .badRequest("Dimmer (5851) is a single integer")
            }
            guard (0...100).contains(dimmer) else { throw .badRequest("Dimmer (5851) is 0...100, not \(dimmer)") }
            if lamp.isOn { try drive(lamp, lamp.brightness(dimmer: dimmer)) }
            if dimmer != lamp.dimmer {
                lamp.dimmer = dimmer
                changed.append(Resource.dimmer)
            }
        case Resource.onTime:
            guard case .single(.integer(let seconds)) = content else {
                throw .badRequest("On Time (5852) is a single integer")
            }
            guard seconds == 0 else { throw .badRequest("On Time (5852) can only be reset to 0, not set to \(seconds)") }
            if lamp.isOn { lamp.onSince = clock() }
        case Resource.applicationType:
            guard case .single(.string(let text)) = content else {
                throw .badRequest("Application Type (5750) is a single string")
            }
            lamp.applicationType = text
            changed.append(Resource.applicationType)
        default:
            throw .notFound
        }
        let onTime = onTime(lamp)
        if onTime != lamp.reportedOnTime {
            lamp.reportedOnTime = onTime
            changed.append(Resource.onTime)
        }
        lamps[index] = lamp
        for resource in changed { changeHandler?(LwM2MPath(definition.id, UInt16(index), resource)) }
    }

    /// A Write-Replace of the instance left `path` out: Dimmer goes back to 100 (driven while
    /// on), On Time restarts, Application Type goes back to the board's.
    public func removeResource(_ path: LwM2MPath) throws(LwM2MError) {
        let (index, resource) = try ids(of: path)
        switch resource {
        case Resource.dimmer where lamps[index].isDimmable:
            try write(path, .single(.integer(100)))
        case Resource.onTime:
            try write(path, .single(.integer(0)))
        case Resource.applicationType:
            lamps[index].applicationType = lamps[index].boardApplicationType
            changeHandler?(path)
        default:
            throw .methodNotAllowed
        }
    }

    // MARK: - SampledObject

    /// Reports On Time (5852) of every LED whose whole seconds changed since the last report.
    /// `now` (wall-clock time) is not used: On Time runs on the monotonic clock.
    public func sample(now: Int64) {
        for index in lamps.indices {
            let onTime = onTime(lamps[index])
            guard onTime != lamps[index].reportedOnTime else { continue }
            lamps[index].reportedOnTime = onTime
            changeHandler?(LwM2MPath(definition.id, UInt16(index), Resource.onTime))
        }
    }

    /// Sampling starts again after a pause (nothing observed the object): On Time as it is now
    /// becomes the reference, reported by nothing (a Read computes it from the switch-on time,
    /// so the new observation's response carried it).
    public func resumeSampling(now: Int64) {
        for index in lamps.indices { lamps[index].reportedOnTime = onTime(lamps[index]) }
    }

    // MARK: - Private

    /// Whole seconds since the LED was switched on, 0 while off.
    private func onTime(_ lamp: Lamp) -> Int64 {
        guard lamp.isOn, let since = lamp.onSince else { return 0 }
        return max(0, (clock() - since).nanosecondsClamped / 1_000_000_000)
    }

    private func drive(_ lamp: Lamp, _ brightness: Int) throws(LwM2MError) {
        do throws(HardwareAccessError) {
            try lamp.driver.setBrightness(brightness)
        } catch {
            throw .internalError(error.description)
        }
    }

    /// The instance index and resource ID of a resource path of this object.
    private func ids(of path: LwM2MPath) throws(LwM2MError) -> (Int, UInt16) {
        try indexedResource(path, instanceCount: lamps.count)
    }
}
