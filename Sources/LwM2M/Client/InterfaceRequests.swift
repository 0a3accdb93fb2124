import CoAP

/// The requests the client sends on the Bootstrap and Registration interfaces (TS 1.1 §6.1,
/// §6.2; transport bindings in TS Transport §6.4).
public enum InterfaceRequests {
    /// Bootstrap-Request: `POST /bs?ep=<name>&pct=<preferred content format>`.
    public static func bootstrapRequest(endpointName: String, preferredFormat: UInt16?) -> CoAPRequest {
        var options = [CoAPOption(.uriPath, string: "bs"), CoAPOption(.uriQuery, string: "ep=\(endpointName)")]
        if let preferredFormat { options.append(CoAPOption(.uriQuery, string: "pct=\(preferredFormat)")) }
        return CoAPRequest(.post, options: options)
    }

    /// What a Register announces.
    public struct Registration: Hashable, Sendable {
        public var endpointName: String
        public var lifetime: Int64
        public var binding: String
        public var queueMode: Bool
        public var version: String

        public init(endpointName: String, lifetime: Int64, binding: String, queueMode: Bool, version: String = "1.1") {
            self.endpointName = endpointName
            self.lifetime = lifetime
            self.binding = binding
            self.queueMode = queueMode
            self.version = version
        }

        /// The binding sent in `b`: the transport letters of /1/x/7 without "Q" (LwM2M 1.1
        /// signals queue mode with the separate `Q` parameter).
        var transportBinding: String {
            let letters = binding.filter { $0 != "Q" }
            return letters.isEmpty ? "U" : letters
        }
    }

    /// Register: `POST /rd?ep=&lt=&lwm2m=&b=[&Q]` with the object links as link format.
    public static func register(_ registration: Registration, objectLinks: [UInt8]) -> CoAPRequest {
        var options = [
            CoAPOption(.uriPath, string: "rd"),
            CoAPOption(.contentFormat, uint: UInt32(ContentFormat.linkFormat)),
            CoAPOption(.uriQuery, string: "ep=\(registration.endpointName)"),
            CoAPOption(.uriQuery, string: "lt=\(registration.lifetime)"),
            CoAPOption(.uriQuery, string: "lwm2m=\(registration.version)"),
            CoAPOption(.uriQuery, string: "b=\(registration.transportBinding)"),
        ]
        if registration.queueMode { options.append(CoAPOption(.uriQuery, string: "Q")) }
        return CoAPRequest(.post, options: options, payload: objectLinks)
    }

    /// Update: `POST /<location>` with the parameters that changed and, when the object
    /// instances changed, the new object links. `binding` is sent as Register sends it, in the
    /// 1.1 form: the transport letters only (`b=U`, never `b=UQ`); LwM2M 1.1's Update has no
    /// queue-mode parameter, so a change of queue mode needs a new Register.
    public static func update(location: [String], lifetime: Int64? = nil, binding: String? = nil,
                              objectLinks: [UInt8]? = nil) -> CoAPRequest {
        var options = location.map { CoAPOption(.uriPath, string: $0) }
        if objectLinks != nil { options.append(CoAPOption(.contentFormat, uint: UInt32(ContentFormat.linkFormat))) }
        if let lifetime { options.append(CoAPOption(.uriQuery, string: "lt=\(lifetime)")) }
        if let binding {
            let letters = binding.filter { $0 != "Q" }
            options.append(CoAPOption(.uriQuery, string: "b=\(letters.isEmpty ? "U" : letters)"))
        }
        return CoAPRequest(.post, options: options, payload: objectLinks ?? [])
    }

    /// De-register: `DELETE /<location>`.
    public static func deregister(location: [String]) -> CoAPRequest {
        CoAPRequest(.delete, options: location.map { CoAPOption(.uriPath, string: $0) })
    }

    /// The registration location from a 2.01 response's Location-Path options. A server that
    /// packs "rd/5a3f" into one option is understood too (protocol pitfall 14).
    public static func location(of response: CoAPMessage) -> [String]? {
        let segments = response.locationPath.flatMap { $0.split(separator: "/").map(String.init) }
        return segments.isEmpty ? nil : segments
    }

    /// The content formats the Device Management responder reads and writes for whole
    /// objects and instances, as the root link's `ct` lists them: SenML JSON (110), SenML CBOR
    /// (112), TLV (11542), LwM2M JSON (11543), LwM2M CBOR (11544). Text (0) and opaque (42)
    /// carry single values only and every 1.1 client supports them; they are not listed.
    public static let advertisedFormats: [UInt16] = [
        ContentFormat.senmlJSON, ContentFormat.senmlCBOR, ContentFormat.lwm2mTLV, ContentFormat.lwm2mJSON,
        ContentFormat.lwm2mCBOR,
    ]

    /// The Register/Update payload: `</>;rt="oma.lwm2m";ct="…"` then every object the server may
    /// address — instances as `</o/i>`, an object without instances as `</o>`, a version other
    /// than 1.0 as `ver` on `</o>`. The Security (0) and OSCORE (21) objects are left out (TS 1.1
    /// §6.2.1). `ct` lists every format the responder serves (`advertisedFormats`), in the 1.1
    /// form of a quoted, space-separated list, the preferred `contentFormat` first.
    public static func objectLinks(_ registry: ObjectRegistry, contentFormat: UInt16 = ContentFormat.senmlCBOR) -> [UInt8] {
        let formats = [contentFormat] + advertisedFormats.filter { $0 != contentFormat }
        var text = "</>;rt=\"oma.lwm2m\";ct=\"\(formats.map(String.init).joined(separator: " "))\""
        for objectID in registry.objectIDs where !RequestHandler.bootstrapOnlyObjects.contains(objectID) {
            guard let object = registry.object(objectID) else { continue }
            let version = object.definition.version
            let instances = object.instanceIDs
            if version != "1.0" && !version.isEmpty {
                text += ",</\(objectID)>;ver=\(version)"
            } else if instances.isEmpty {
                text += ",</\(objectID)>"
            }
            for instance in instances { text += ",</\(objectID)/\(instance)>" }
        }
        return Array(text.utf8)
    }
}
