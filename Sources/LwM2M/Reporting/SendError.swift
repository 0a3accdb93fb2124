import CoAP

/// Why a Send could not be prepared.
public enum SendError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The server's account has Mute Send (/1/x/23) set: nothing may be sent to it.
    case muted
    /// No path was given, or none of them holds a readable value.
    case nothingToSend
    /// Send carries SenML JSON (110) or SenML CBOR (112) only.
    case unsupportedFormat(UInt16)
    /// A path could not be read (missing, not readable, not allowed for this server).
    case unreadable(LwM2MPath, LwM2MError)
    /// The records could not be encoded.
    case encoding(String)

    public var description: String {
        switch self {
        case .muted: "Mute Send is set for this server"
        case .nothingToSend: "no value to send"
        case .unsupportedFormat(let format): "Send cannot use content format \(format)"
        case .unreadable(let path, let error): "cannot read \(path): \(error)"
        case .encoding(let why): "cannot encode the Send payload: \(why)"
        }
    }
}
