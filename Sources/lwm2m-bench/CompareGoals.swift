/// Issue 17's goals, in one place: the thresholds `lwm2m-bench compare` judges its table by.
/// Ratios are agent ÷ the C baseline measured in the same run.
enum CompareGoals {
    /// exec → exit CPU of `lwm2m-agentd --version`: at most this many times `/bin/true`'s.
    static let startCPURatio = 3.0
    /// exec → Register received (direct, NoSec, local server), median wall time, ms.
    static let registeredMilliseconds = 4.0
    /// Agent CPU per served Read /3/0 (TLV and SenML CBOR), one in flight, pinned: at most this
    /// fraction of `coap-server-notls`'s CPU per GET of its 136-byte resource.
    static let readCPURatio = 0.65
    /// Notifications per second with 1,000 observations fanned out: at least.
    static let notificationsPerSecond = 150_000.0
    /// Resident memory of the registered daemon, MiB: at most.
    static let rssMiB = 6.0
    /// Anonymous resident memory (RssAnon) of the registered daemon, MiB: at most.
    static let anonymousMiB = 1.0
    /// The daemon after `strip`, MB (10^6 bytes): at most.
    static let strippedMB = 6.0
    /// Wake-ups of the idle registered daemon in the idle window (no timer due in it): at most.
    static let idleWakeUps = 1.0
}
