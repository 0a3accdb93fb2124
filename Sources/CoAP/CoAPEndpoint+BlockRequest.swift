// Client role: one Block2 block at a time, for transfers the caller drives (streamed downloads).

extension CoAPEndpoint {
    /// Sends `request` asking for one block of the response (`block2`: its number and size; the
    /// M bit is ignored) and delivers the response to that one request as it comes, Block2 option
    /// and all, as `.response(id, message)`: nothing is reassembled or fetched further, so a large
    /// body never sits in memory. Retransmissions, time-outs and failures are as for ``send(_:to:at:)``.
    /// A Block2 option already among the request's options is replaced.
    public mutating func sendBlockRequest(_ request: CoAPRequest, block2: BlockValue, to peer: Peer,
                                          at now: Instant) -> RequestID {
        let id = RequestID(rawValue: makeIdentifier())
        var request = request
        request.options.removeAll { $0.number == .block2 }
        var exchange = ClientExchange(peer: peer, request: request, isPing: false)
        exchange.block2 = BlockValue(number: block2.number, more: false, szx: block2.szx)
        exchange.deliversSingleBlock = true
        clientExchanges[id] = exchange
        transmitNext(id, at: now)
        startWaitingRequests(at: now)
        return id
    }
}
