import CoAP

/// The Send operation of the Information Reporting interface (TS 1.1 §6.4.6): the client
/// pushes the values of some paths to a server, unasked, as a confirmable `POST /dp` with a
/// SenML JSON or SenML CBOR payload; the server answers 2.04. Sans-IO: this builds the request;
/// the client layer sends it on the server's session (`message(messageID:token:)`) and handles
/// the answer.
public struct SendRequest: Hashable, Sendable {
    /// The Uri-Path of the Send operation.
    public static let uriPath = ["dp"]

    /// POST.
    public let method: CoAPCode
    /// `["dp"]`.
    public let uriPath: [String]
    /// 110 (SenML JSON) or 112 (SenML CBOR).
    public let contentFormat: UInt16
    /// The SenML pack.
    public let payload: [UInt8]
    /// The records the payload carries, in order.
    public let records: [LwM2MRecord]

    /// Builds the Send of the current values at `paths` (objects, instances, resources or
    /// resource instances; each record once, in path-list order) to `server`.
    ///
    /// - `format`: SenML CBOR (112, the default) or SenML JSON (110).
    /// - `timestamp`: when given, every record carries it as its SenML time (seconds since the
    ///   Unix epoch); otherwise records carry no time ("now").
    /// - Throws `.muted` when the server's Mute Send (/1/x/23) is true, `.unreadable` for a path
    ///   that is missing, not readable, a Security / OSCORE path, or (under access control) not
    ///   readable by `server`, and `.nothingToSend` when the paths hold no value.
    public init(paths: [LwM2MPath], registry: ObjectRegistry, server: ServerContext,
                format: UInt16 = ContentFormat.senmlCBOR, timestamp: Double? = nil) throws(SendError) {
        guard format == ContentFormat.senmlCBOR || format == ContentFormat.senmlJSON else {
            throw .unsupportedFormat(format)
        }
        guard !server.isSendMuted(in: registry) else { throw .muted }
        let access = AccessControl(server: server, registry: registry)
        var records: [LwM2MRecord] = []
        var seen: Set<LwM2MPath> = []
        for path in paths {
            do throws(LwM2MError) {
                guard let objectID = path.objectID else { throw .methodNotAllowed }
                if RequestHandler.bootstrapOnlyObjects.contains(objectID) { throw .unauthorized }
                if let access, path.depth >= 2 {
                    _ = try registry.target(path)
                    try access.require(.read, at: path)
                }
                for record in try RequestHandler.readableRecords(path, registry, access)
                where seen.insert(record.path).inserted {
                    records.append(record)
                }
            } catch {
                throw .unreadable(path, error)
            }
        }
        guard !records.isEmpty else { throw .nothingToSend }
        do {
            if format == ContentFormat.senmlJSON {
                payload = try SenMLJSON.encodeComposite(entries: records.map { SenMLJSON.Entry($0, time: timestamp) })
            } else {
                payload = try SenMLCBOR.encodeTimestamped(records.map { SenMLCBOR.TimestampedRecord($0, time: timestamp) },
                                                          base: .none)
            }
        } catch {
            throw .encoding("\(error)")
        }
        method = .post
        uriPath = Self.uriPath
        contentFormat = format
        self.records = records
    }

    /// The request as a confirmable CoAP message with `messageID` and `token`.
    public func message(messageID: UInt16, token: Token) -> CoAPMessage {
        var message = CoAPMessage(type: .confirmable, code: method, messageID: messageID, token: token)
        message.uriPath = uriPath
        message.contentFormat = contentFormat
        message.payload = payload
        return message
    }
}

/// Builds the Send of the values at `paths` to `server` (see `SendRequest.init`).
public func makeSendRequest(paths: [LwM2MPath], registry: ObjectRegistry, server: ServerContext,
                            format: UInt16 = ContentFormat.senmlCBOR, timestamp: Double? = nil)
    throws(SendError) -> SendRequest
{
    try SendRequest(paths: paths, registry: registry, server: server, format: format, timestamp: timestamp)
}
