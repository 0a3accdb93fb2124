@testable import LwM2M

// The servers and factory snapshots the client tests share.

let bootstrapURI = "coap://bs.example:5683"
let serverURI = "coap://dm.example:5683"
let factoryServerURI = "coap://factory.example:5683"

/// Factory snapshot with only a bootstrap account.
let bootstrapOnly = Accounts.snapshot(security: Accounts.securityRecords(instance: 0, uri: bootstrapURI, bootstrap: true))
