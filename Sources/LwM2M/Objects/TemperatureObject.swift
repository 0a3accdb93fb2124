/// The IPSO Temperature object (3303), one instance per sensor (instance IDs 0, 1, … in the order
/// given), read at read time:
///
/// - Sensor Value (5700, °C): the sensor's reading when a server reads the instance or the agent
///   samples it; absent while the sensor cannot be read (a Read of it is 4.04, a Read of the
///   instance leaves it out), without a change report, so an observation survives a failed read
///   (unless its pmax falls in the outage).
/// - Sensor Units (5701): "Cel" (SenML unit of degrees Celsius).
/// - Min / Max Measured Value (5601 / 5602): the lowest and highest reading seen since the agent
///   started or the last Reset (5605, executable, which sets both to the current reading, or
///   makes them absent when there is none).
/// - Min / Max Range Value (5603 / 5604): what the sensor says it can measure, when it says.
/// - Application Type (5750): the sensor's kind (the thermal zone's type); a server may write
///   another text, kept in memory until the agent restarts.
///
/// Every reading that changes a value reports it through `changeHandler`, so observations with
/// `gt` / `lt` / `st` are evaluated on real changes. Timestamp (5518) is not offered: a reading
/// taken for a Read has no wall-clock time in this sans-IO core.
public final class TemperatureObject: SampledObject {
    /// The resource IDs of object 3303 this object serves.
    public enum Resource {
        public static let minMeasuredValue: UInt16 = 5601
        public static let maxMeasuredValue: UInt16 = 5602
        public static let minRangeValue: UInt16 = 5603
        public static let maxRangeValue: UInt16 = 5604
        public static let resetMinAndMax: UInt16 = 5605
        public static let sensorValue: UInt16 = 5700
        public static let sensorUnits: UInt16 = 5701
        public static let applicationType: UInt16 = 5750
    }

    /// The unit reported in Sensor Units (5701): degrees Celsius, as SenML (RFC 8428) spells it.
    public static let units = "Cel"

    /// Object 3303 as the OMA registry defines it (`OMAObjects`).
    public let definition: ObjectDefinition
    /// Set by `ObjectRegistry.register`; called for every value a reading changed.
    public var changeHandler: ((LwM2MPath) -> Void)?

    /// One instance: its sensor and what the object tracks for it.
    private struct Instance {
        let sensor: any TemperatureSensor
        var current: Double?
        var minimum: Double?
        var maximum: Double?
        /// Application Type written by a server; nil: the sensor's own.
        var writtenApplicationType: String?
    }

    private var instances: [Instance]

    /// An object with one instance per sensor, instance `i` backed by `sensors[i]` (at most
    /// 65535 sensors; any beyond are ignored). The sensors are not read until the first Read or
    /// sample.
    public init(sensors: [any TemperatureSensor]) {
        definition = OMAObjects.definition(3303)!
        instances = sensors.prefix(65535).map { Instance(sensor: $0) }
    }

    // MARK: - LwM2MObject

    public var instanceIDs: [UInt16] { instances.indices.map { UInt16($0) } }

    /// Takes a fresh reading of the instance's sensor (this is the call a Read, a Discover and
    /// an observation evaluation all start with), then lists what is present.
    public func resourceIDs(in instance: UInt16) -> [UInt16] {
        guard Int(instance) < instances.count else { return [] }
        refresh(Int(instance))
        let state = instances[Int(instance)]
        var ids = [Resource.resetMinAndMax, Resource.sensorUnits]
        if state.current != nil { ids.append(Resource.sensorValue) }
        if state.minimum != nil { ids.append(Resource.minMeasuredValue) }
        if state.maximum != nil { ids.append(Resource.maxMeasuredValue) }
        if state.sensor.rangeMinimum != nil { ids.append(Resource.minRangeValue) }
        if state.sensor.rangeMaximum != nil { ids.append(Resource.maxRangeValue) }
        if applicationType(of: state) != nil { ids.append(Resource.applicationType) }
        return ids.sorted()
    }

    /// The value as of the last reading (`resourceIDs(in:)` takes one before every Read).
    public func read(_ path: LwM2MPath) throws(LwM2MError) -> ResourceContent {
        let (index, resource) = try ids(of: path)
        let state = instances[index]
        let value: ResourceValue?
        switch resource {
        case Resource.sensorValue: value = state.current.map(ResourceValue.float)
        case Resource.minMeasuredValue: value = state.minimum.map(ResourceValue.float)
        case Resource.maxMeasuredValue: value = state.maximum.map(ResourceValue.float)
        case Resource.minRangeValue: value = state.sensor.rangeMinimum.map(ResourceValue.float)
        case Resource.maxRangeValue: value = state.sensor.rangeMaximum.map(ResourceValue.float)
        case Resource.sensorUnits: value = .string(Self.units)
        case Resource.applicationType: value = applicationType(of: state).map(ResourceValue.string)
        default: value = nil
        }
        guard let value else { throw .notFound }
        return .single(value)
    }

    /// Application Type (5750) is the only writable resource: a string.
    public func write(_ path: LwM2MPath, _ content: ResourceContent) throws(LwM2MError) {
        let (index, resource) = try ids(of: path)
        guard resource == Resource.applicationType else { throw .methodNotAllowed }
        guard case .single(.string(let text)) = content else {
            throw .badRequest("Application Type (5750) is a single string")
        }
        instances[index].writtenApplicationType = text
        changeHandler?(path)
    }

    /// Reset Min and Max Measured Values (5605): both become the current reading.
    public func execute(_ path: LwM2MPath, arguments: [UInt8]) throws(LwM2MError) {
        let (index, resource) = try ids(of: path)
        guard resource == Resource.resetMinAndMax else { throw .methodNotAllowed }
        resetMinAndMax(index)
    }

    // MARK: - SampledObject

    /// Reads every sensor and reports the values that changed.
    public func sample(now: Int64) {
        for index in instances.indices { refresh(index) }
    }

    // MARK: - Private

    /// Reads the sensor of instance `index`, updates the value and the measured extremes, and
    /// reports each that changed.
    private func refresh(_ index: Int) {
        var state = instances[index]
        let reading = state.sensor.celsius().flatMap { $0.isFinite ? $0 : nil }
        var changed: [UInt16] = []
        // A sensor turning unreadable is not reported: the reporting engine would end every
        // observation of 5700 with 4.04 on one failed read (drivers fail reads transiently).
        // Sensor Value is absent meanwhile; the next reading is compared and reported as usual.
        if reading != nil, !Self.same(reading, state.current) { changed.append(Resource.sensorValue) }
        state.current = reading
        if let reading {
            if state.minimum.map({ reading < $0 }) ?? true {
                state.minimum = reading
                changed.append(Resource.minMeasuredValue)
            }
            if state.maximum.map({ reading > $0 }) ?? true {
                state.maximum = reading
                changed.append(Resource.maxMeasuredValue)
            }
        }
        instances[index] = state
        report(index, changed)
    }

    private func resetMinAndMax(_ index: Int) {
        refresh(index)
        var state = instances[index]
        var changed: [UInt16] = []
        if !Self.same(state.minimum, state.current) { changed.append(Resource.minMeasuredValue) }
        if !Self.same(state.maximum, state.current) { changed.append(Resource.maxMeasuredValue) }
        state.minimum = state.current
        state.maximum = state.current
        instances[index] = state
        report(index, changed)
    }

    private func report(_ index: Int, _ resources: [UInt16]) {
        for resource in resources { changeHandler?(LwM2MPath(definition.id, UInt16(index), resource)) }
    }

    private func applicationType(of state: Instance) -> String? {
        state.writtenApplicationType ?? state.sensor.applicationType
    }

    private static func same(_ a: Double?, _ b: Double?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case (let a?, let b?): a.bitPattern == b.bitPattern
        default: false
        }
    }

    /// The instance index and resource ID of a resource path of this object.
    private func ids(of path: LwM2MPath) throws(LwM2MError) -> (Int, UInt16) {
        try indexedResource(path, instanceCount: instances.count)
    }
}
