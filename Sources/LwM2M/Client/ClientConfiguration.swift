import CoAP

/// How the client behaves, beyond what the Security and Server objects say.
public struct ClientConfiguration: Sendable {
    /// The endpoint client name (`ep`).
    public var endpointName: String
    /// The LwM2M version announced (`lwm2m`).
    public var version = "1.1"
    /// The preferred content format announced in Bootstrap-Request (`pct`) and Register (`ct`).
    public var preferredContentFormat: UInt16 = ContentFormat.senmlCBOR
    /// Bootstrap at every start even with usable server accounts (1NCE-style services that
    /// regenerate credentials per bootstrap, protocol pitfall 8).
    public var bootstrapOnEveryStart = false
    /// First delay before retrying a failed bootstrap; doubles per failure up to the maximum,
    /// plus up to 50 % random jitter.
    public var bootstrapRetryInitial: Duration = .seconds(10)
    public var bootstrapRetryMaximum: Duration = .seconds(3600)
    /// How long a bootstrap session may go without a command before it fails; nil means
    /// EXCHANGE_LIFETIME of the transmission parameters (247 s by default).
    public var bootstrapSessionTimeout: Duration?
    /// The security modes the outer layer can open connections with.
    public var supportedSecurityModes: Set<SecurityMode> = [.noSecurity]
    /// The CoAP endpoint's parameters.
    public var endpoint = EndpointConfiguration()
    /// Queue mode (Binding "UQ"): how long the client stays reachable after a Register, an
    /// Update or a server's request before it goes to sleep and stores notifications; nil means
    /// MAX_TRANSMIT_WAIT (93 s with the default transmission parameters).
    public var queueModeAwakeTime: Duration?
    /// How long stop() waits for De-register responses before giving up.
    public var deregistrationTimeout: Duration = .seconds(5)

    public init(endpointName: String) {
        self.endpointName = endpointName
    }

    /// The queue-mode awake time in effect.
    var awakeTime: Duration { queueModeAwakeTime ?? endpoint.transmission.maxTransmitWait }

    /// The bootstrap session timeout in effect.
    var sessionTimeout: Duration {
        bootstrapSessionTimeout ?? endpoint.transmission.exchangeLifetime
    }
}
