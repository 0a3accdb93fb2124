import CTSS2

/// TPM2_PolicyPCR binding: the policy digest a sealed object is created with, and the policy
/// session that satisfies it at unseal time. Sessions are flushed on every path.
enum PCRPolicy {
    /// The policy digest over the current values of `selection` (computed in a trial session).
    static func digest(for selection: PCRSelection, esapi: ESAPI) throws(TPMError) -> [UInt8] {
        let trial = try esapi.startPolicySession(trial: true)
        defer { esapi.flush(trial) }
        try esapi.policyPCR(trial, selection)
        return try esapi.policyDigest(trial)
    }

    /// Runs `body` with a policy session that asserts the current values of `selection`. If the
    /// PCRs changed since sealing, the command authorised by the session fails with
    /// TPM_RC_POLICY_FAIL, reported as `.policyMismatch`.
    static func withSatisfiedSession<R>(
        for selection: PCRSelection, esapi: ESAPI, _ body: (ESYS_TR) throws(TPMError) -> R
    ) throws(TPMError) -> R {
        let session = try esapi.startPolicySession(trial: false)
        defer { esapi.flush(session) }
        try esapi.policyPCR(session, selection)
        return try body(session)
    }
}
