/// The LwM2M Server object (1) as the client serves it, and the values it accepts.
///
/// Version: the client announces `lwm2m=1.1`, so it serves the Server object in version 1.1
/// (`</1>;ver=1.1`), the version a 1.1 server knows. Server 1.2 is an LwM2M 1.2 object
/// (LWM2MVersion 1.2 in the OMA registry): a 1.1 server such as Leshan 2.0 has no model for it
/// and decodes a TLV read of `/1/x` as opaque bytes. Version 1.1 is the 1.2 definition without
/// resources 24–27 (added in 1.2), with the operations 1.1 gives resources 13–20: none —
/// the bootstrap server writes them, management servers neither read nor write them.
/// Objects whose newest version is still an LwM2M 1.1 object (Device 1.2, Connectivity
/// Monitoring 1.3: LWM2MVersion 1.1) keep that version; Leshan 2.0 ships models for them.
public enum ServerObjectRules {
    /// Resources the Server object gained in version 1.2.
    static let addedIn12: ClosedRange<UInt16> = 24...27
    /// Resources Server 1.1 reserves to the bootstrap server (no operations in its definition).
    static let bootstrapOnlyIn11: ClosedRange<UInt16> = 13...20

    /// The Server object definition for an agent announcing LwM2M `version` ("1.1" or "1.0"
    /// get 1.1; anything newer the full generated definition).
    public static func definition(for version: String) -> ObjectDefinition {
        let full = OMAObjects.definition(1)!
        guard version == "1.0" || version == "1.1" else { return full }
        let resources = full.resources.compactMap { resource -> ResourceDefinition? in
            if addedIn12.contains(resource.id) { return nil }
            guard bootstrapOnlyIn11.contains(resource.id) else { return resource }
            return ResourceDefinition(id: resource.id, name: resource.name, operations: [],
                                      isMultiple: resource.isMultiple, isMandatory: resource.isMandatory,
                                      type: resource.type, range: resource.range, units: resource.units)
        }
        return ObjectDefinition(id: full.id, name: full.name, version: "1.1", lwm2mVersion: "1.1",
                                isMultiple: full.isMultiple, isMandatory: full.isMandatory, resources: resources)
    }

    /// The Lifetimes (/1/x/1) the client accepts, in seconds. The object definition gives no
    /// range; a Lifetime of 0 or less cannot be honoured (the registration would expire at once
    /// and the client would send Updates back to back), and servers keep `lt` in 32 bits, many
    /// of them signed: 1 s … 2^31 − 1 s (68 years).
    public static let lifetimeRange: ClosedRange<Int64> = 1...Int64(Int32.max)

    /// The Binding letters of LwM2M 1.1 (/1/x/7): U (UDP), T (TCP), S (SMS), N (Non-IP) and Q
    /// (queue mode, 1.0 notation, accepted for compatibility).
    public static let bindingLetters: Set<Character> = ["U", "T", "S", "N", "Q"]

    /// Checks a value a server writes to the Server object: Lifetime in `lifetimeRange`,
    /// Binding made of `bindingLetters`, periods and timers not negative. `.badRequest` with the
    /// reason otherwise.
    public static func validate(_ path: LwM2MPath, _ content: ResourceContent) throws(LwM2MError) {
        guard let resource = path.resourceID, case .single(let value) = content else { return }
        switch resource {
        case 1:
            guard let lifetime = value.integerValue, lifetimeRange.contains(lifetime) else {
                throw .badRequest("Lifetime \(value) out of range \(lifetimeRange.lowerBound)..\(lifetimeRange.upperBound) s")
            }
        case 2, 3, 5:
            guard let seconds = value.integerValue, seconds >= 0 else {
                throw .badRequest("\(path) must not be negative")
            }
        case 7:
            guard case .string(let binding) = value, !binding.isEmpty, binding.allSatisfy(bindingLetters.contains) else {
                throw .badRequest("Binding \(value) is not made of the letters U, T, S, N, Q")
            }
        default:
            break
        }
    }
}
