extension LwM2MClient {
    /// Whether any server's observation reads object `objectID` (the object, one of its
    /// instances or resources, or the root in a composite observation): what decides whether
    /// an object whose values change on their own (`SampledObject`) is sampled at all
    /// (`SamplingSchedule`). Write-Attributes alone do not count: attributes only shape the
    /// notifications of an observation. Cheap: one look-up per management session.
    public func isObserving(object objectID: UInt16) -> Bool {
        for session in management.values where session.reporting.isObserving(object: objectID) { return true }
        return false
    }
}
