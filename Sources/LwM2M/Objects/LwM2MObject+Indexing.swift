extension LwM2MObject {
    /// The instance index and resource ID of `path`, for objects whose instances are
    /// `0..<instanceCount`: a resource path of this object naming an existing instance, else
    /// 4.04.
    func indexedResource(_ path: LwM2MPath, instanceCount: Int) throws(LwM2MError) -> (Int, UInt16) {
        guard path.isResource, path.objectID == definition.id, let instance = path.instanceID,
              Int(instance) < instanceCount, let resource = path.resourceID else { throw .notFound }
        return (Int(instance), resource)
    }
}
