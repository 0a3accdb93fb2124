import CoAP

/// What the outer layer must do for the client.
public enum ClientAction: Sendable {
    /// Open a connection to `account.uri` (resolve, socket, DTLS handshake with the account's
    /// credentials), then call `connectionOpened` or `connectionFailed`.
    case open(ConnectionID, SecurityAccount)
    /// Send a datagram on a connection.
    case send(ConnectionID, [UInt8])
    /// Close a connection (DTLS close_notify, socket closed).
    case close(ConnectionID)
    /// Write `LwM2MClient.persistentState` to disk (atomically).
    case saveState
}
