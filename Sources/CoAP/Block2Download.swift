/// A streamed Block2 download (RFC 7959 §2.4), sans-IO: which block to ask for next, and what
/// each response means for the bytes kept so far. Nothing of the body is held here: every
/// block's payload is handed back to the caller, who appends it to its sink (a file).
///
/// The caller sends ``nextBlock`` with ``CoAPEndpoint/sendBlockRequest(_:block2:to:at:)`` and
/// feeds the response to ``receive(_:)``, until ``isComplete``. Every block's ETag must equal the
/// first block's (or, when resuming, the ETag saved with the partial download): a change means the
/// resource was replaced mid-transfer, and the download starts again from byte 0 (the outcome
/// says `restart`: the sink must be emptied first) or fails, per ``ETagPolicy``.
///
/// Resuming after a lost connection or a restart of the agent: ``init(request:blockSZX:resumingAt:eTag:)``
/// with the bytes already stored (rounded down to a block boundary with ``resumeOffset(stored:blockSZX:)``)
/// and the ETag saved with them.
public struct Block2Download: Sendable {
    /// What to do when the representation changes mid-transfer (another ETag).
    public enum ETagPolicy: Hashable, Sendable {
        /// Start again from block 0, at most `limit` times, then fail.
        case restart(limit: Int)
        /// Fail with ``Block2DownloadError/representationChanged``.
        case fail
    }

    /// What one response means for the bytes stored so far.
    public struct Outcome: Hashable, Sendable {
        /// Everything stored so far must be discarded before `payload` is appended (the
        /// representation changed, or the server answered a resumed request from byte 0).
        public var restart: Bool
        /// The bytes to append at the end of what is stored (empty when a restart asks block 0 again).
        public var payload: ArraySlice<UInt8>
        /// The download is complete once `payload` is appended.
        public var complete: Bool
    }

    /// The request each block is asked with (method GET, Uri-Path/Uri-Query, Accept …).
    public let request: CoAPRequest
    /// The block size we ask for; lowered when the server answers with smaller blocks.
    public private(set) var blockSZX: UInt8
    /// Bytes received and accepted so far (the size the sink must have).
    public private(set) var offset: Int64
    /// The ETag of the representation being downloaded (`nil`: the server sends none).
    public private(set) var eTag: [UInt8]?
    /// Whether ``eTag`` is known (after the first block, or given when resuming).
    public private(set) var eTagKnown: Bool
    /// The total size the server announced (Size2), if it did.
    public private(set) var totalSize: Int64?
    /// How many times the download started again from byte 0.
    public private(set) var restarts = 0
    /// Whether the last block was received.
    public private(set) var isComplete = false
    public let eTagPolicy: ETagPolicy
    /// Resumed, and no answer to the first block yet.
    private var awaitingFirstResumedBlock = false

    /// A download from byte 0.
    public init(request: CoAPRequest, blockSZX: UInt8 = 6, eTagPolicy: ETagPolicy = .restart(limit: 3)) {
        precondition(blockSZX <= 6, "invalid block size exponent")
        self.request = request
        self.blockSZX = blockSZX
        self.eTagPolicy = eTagPolicy
        offset = 0
        eTag = nil
        eTagKnown = false
    }

    /// A download resumed at byte `offset` (a multiple of the block size) of the representation
    /// whose ETag was `eTag` (`nil` if the server sent none).
    public init(request: CoAPRequest, blockSZX: UInt8 = 6, resumingAt offset: Int64, eTag: [UInt8]?,
                eTagPolicy: ETagPolicy = .restart(limit: 3)) {
        precondition(blockSZX <= 6 && offset >= 0 && offset % Int64(16 << Int(blockSZX)) == 0,
                     "resume offset must be a block boundary")
        self.init(request: request, blockSZX: blockSZX, eTagPolicy: eTagPolicy)
        self.offset = offset
        self.eTag = eTag
        eTagKnown = offset > 0
        awaitingFirstResumedBlock = offset > 0
    }

    /// The largest block boundary at or below `stored` bytes: where a resumed download starts
    /// (the sink is truncated to it).
    public static func resumeOffset(stored: Int64, blockSZX: UInt8 = 6) -> Int64 {
        let size = Int64(16 << Int(blockSZX))
        return max(0, stored) / size * size
    }

    /// The block to ask for next (M bit clear, as in requests).
    public var nextBlock: BlockValue {
        let size = Int64(16 << Int(blockSZX))
        return BlockValue(number: UInt32(offset / size), more: false, szx: blockSZX)
    }

    /// Takes the response to the request for ``nextBlock``.
    /// - Throws: the server's error code, a block that is not the one asked for or malformed,
    ///   a changed representation (``ETagPolicy``), or a body beyond 2^20 blocks.
    public mutating func receive(_ response: CoAPMessage) throws(Block2DownloadError) -> Outcome {
        precondition(!isComplete, "download already complete")
        guard response.code == .content else {
            // A resumed download whose first block lies past the end (the image was stored whole,
            // or replaced by a shorter one): 4.02 (RFC 7959 §2.4): start again from block 0.
            if response.code == .badOption, awaitingFirstResumedBlock {
                awaitingFirstResumedBlock = false
                restarts += 1
                offset = 0
                eTagKnown = false
                eTag = nil
                return Outcome(restart: true, payload: [], complete: false)
            }
            throw .status(response.code)
        }
        awaitingFirstResumedBlock = false
        let payload = response.payload[...]
        guard let block = response.block2 else {
            // The whole representation in one response: complete (from byte 0 whatever we asked).
            let restart = offset > 0
            if restart { restarts += 1 }
            offset = Int64(payload.count)
            eTag = response.eTag
            eTagKnown = true
            isComplete = true
            return Outcome(restart: restart, payload: payload, complete: true)
        }
        guard payload.count <= block.size, !block.more || payload.count == block.size else {
            throw .malformedBlock("block \(block) carries \(payload.count) bytes")
        }
        if eTagKnown, response.eTag != eTag {
            if case .restart(let limit) = eTagPolicy, restarts < limit {
                restarts += 1
                return startOver(with: block, response, payload)
            }
            throw .representationChanged
        }
        let blockOffset = Int64(block.number) * Int64(block.size)
        if blockOffset != offset {
            // A server that cannot resume answers block 0: take it as a fresh start.
            guard block.number == 0 else { throw .unexpectedBlock(expectedOffset: offset, receivedOffset: blockOffset) }
            restarts += 1
            return startOver(with: block, response, payload)
        }
        let outcome = accept(block, response, payload, restart: false)
        guard outcome.complete || canContinue else { throw .tooManyBlocks }
        return outcome
    }

    private mutating func startOver(with block: BlockValue, _ response: CoAPMessage,
                                    _ payload: ArraySlice<UInt8>) -> Outcome {
        offset = 0
        eTagKnown = false
        eTag = nil
        totalSize = nil
        guard block.number == 0 else {
            // A block of the new representation past its start: ask for block 0 of it.
            return Outcome(restart: true, payload: [], complete: false)
        }
        return accept(block, response, payload, restart: true)
    }

    private mutating func accept(_ block: BlockValue, _ response: CoAPMessage, _ payload: ArraySlice<UInt8>,
                                 restart: Bool) -> Outcome {
        if !eTagKnown {
            eTag = response.eTag
            eTagKnown = true
        }
        if let size2 = response.size2 { totalSize = Int64(size2) }
        blockSZX = min(blockSZX, block.szx)
        offset += Int64(payload.count)
        isComplete = !block.more
        return Outcome(restart: restart, payload: payload, complete: isComplete)
    }

    /// Whether another block can be asked for (its number fits in 20 bits).
    public var canContinue: Bool {
        offset / Int64(16 << Int(blockSZX)) <= Int64(BlockValue.maximumNumber)
    }
}

/// Why a streamed Block2 download stopped.
public enum Block2DownloadError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The server answered with another code than 2.05 Content (4.04, 5.03 …).
    case status(CoAPCode)
    /// The ETag changed mid-transfer (and the policy says fail, or it kept changing).
    case representationChanged
    /// The server answered another block than the one asked for.
    case unexpectedBlock(expectedOffset: Int64, receivedOffset: Int64)
    /// A block whose payload does not match its size (short block with M set, or too long).
    case malformedBlock(String)
    /// The body goes past 2^20 blocks.
    case tooManyBlocks

    public var description: String {
        switch self {
        case .status(let code): "server answered \(code)"
        case .representationChanged: "the resource changed during the download (ETag changed)"
        case .unexpectedBlock(let expected, let received):
            "server sent the block at byte \(received), asked for byte \(expected)"
        case .malformedBlock(let why): "malformed block: \(why)"
        case .tooManyBlocks: "body larger than 2^20 blocks"
        }
    }
}
