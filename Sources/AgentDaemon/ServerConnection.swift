import AgentCommon
import CoAP
import DTLS
import Transport

/// One connection of the client to a server: a UDP socket to the server's address, with a DTLS
/// session on top for `coaps` accounts. Moves CoAP datagrams in and out; the session's
/// handshake timers are driven from the runtime's clock.
package final class ServerConnection {
    package let socket: UDPSocket
    package let peer: SocketAddress
    package let dtls: (any DTLSSession)?
    /// Whether the client was told the connection is open (at once for CoAP, after the
    /// handshake for DTLS).
    package var reportedOpen = false
    /// ``UDPSocket/unreachableReports`` when the server last sent a datagram.
    private var unreachableBaseline = 0

    /// How many ICMP "unreachable" reports the connected socket saw since the server last
    /// answered: one may be a server that is restarting; the second (after a retransmission)
    /// means nobody listens there.
    package var unansweredRefusals: Int { socket.unreachableReports - unreachableBaseline }

    /// A UDP socket connected to `peer` (so only `peer`'s datagrams reach it, and ICMP port
    /// unreachable messages about `peer` are reported), with `dtls` on top for `coaps`.
    package init(peer: SocketAddress, dtls: (any DTLSSession)?) throws(TransportError) {
        let socket = try UDPSocket(family: peer.family)
        try socket.connect(to: peer)
        self.socket = socket
        self.peer = peer
        self.dtls = dtls
    }

    /// A connection over `socket` as it is (the CLI's one-shot exchanges).
    package init(socket: UDPSocket, peer: SocketAddress, dtls: (any DTLSSession)?) {
        self.socket = socket
        self.peer = peer
        self.dtls = dtls
    }

    /// The server sent a datagram: earlier ICMP reports are forgotten.
    package func heardFromPeer() {
        unreachableBaseline = socket.unreachableReports
    }

    /// Sends one CoAP datagram (encrypted as one record for DTLS).
    package func send(_ bytes: [UInt8]) throws(TransportError) {
        if let dtls {
            // A full handshake queue or an oversized message: CoAP retransmits or fails the request.
            try? dtls.send(bytes)
            try flushRecords()
        } else {
            _ = try socket.send(bytes, to: peer)
        }
    }

    /// Takes one datagram from the server; returns the CoAP datagrams it carried.
    package func receive(_ datagram: [UInt8], at now: Instant) throws(TransportError) -> [[UInt8]] {
        guard let dtls else { return [datagram] }
        dtls.receive(datagram: datagram, now: now)
        var plaintext: [[UInt8]] = []
        while let data = dtls.nextApplicationData() { plaintext.append(data) }
        try flushRecords()
        return plaintext
    }

    /// Fires the handshake timers due `now`.
    package func advance(to now: Instant) throws(TransportError) {
        guard let dtls else { return }
        dtls.advance(to: now)
        try flushRecords()
    }

    /// The DTLS events since the last call.
    package func takeEvents() -> [DTLSEvent] {
        guard let dtls else { return [] }
        var events: [DTLSEvent] = []
        while let event = dtls.nextEvent() { events.append(event) }
        return events
    }

    package var nextDeadline: Instant? { dtls?.nextDeadline }

    /// close_notify for DTLS, then the socket closes.
    package func close() {
        if let dtls {
            dtls.close()
            try? flushRecords()
        }
        socket.close()
    }

    private func flushRecords() throws(TransportError) {
        guard let dtls else { return }
        while let record = dtls.nextDatagram() { _ = try socket.send(record, to: peer) }
    }
}
