import AgentCommon
import CoAP
import LwM2M

// The demo's LwM2M side: requests on /<object id>/… go to the demo's `ManagementSession`, and
// each tick moves the Device object's values and sends the notifications that are due.

extension DemoResources {
    /// Answers a request on an LwM2M path (or a composite FETCH/iPATCH on /), then sends
    /// what became due (a Write changing an observed value, a Write-Attributes shortening a
    /// period). Observations are handled as for a registered server (`ManagementSession`).
    mutating func handleLwM2M<Peer>(
        _ request: IncomingRequest<Peer>, endpoint: inout CoAPEndpoint<Peer>, at now: Instant
    ) {
        session.handle(request, registry: registry, endpoint: &endpoint, at: now)
        report(endpoint: &endpoint, at: now)
    }

    /// Sends the LwM2M notifications due `now`, after taking in the registry's changes.
    mutating func report<Peer>(endpoint: inout CoAPEndpoint<Peer>, at now: Instant) {
        session.report(changes: registry.takeChanges(), registry: registry, endpoint: &endpoint, at: now)
    }

    /// Moves the Device object on one tick: Current Time (/3/0/13) follows the clock (set only
    /// when the second changed), Battery Level (/3/0/9) drops by 1 every 10 ticks, back to 100
    /// after 0.
    mutating func updateDevice(at now: Instant) {
        let currentTime = startTime + (now - start).components.seconds
        let timePath = LwM2MPath(3, 0, DeviceObject.Resource.currentTime)
        if (try? registry.records(at: timePath)) != [LwM2MRecord(timePath, .time(currentTime))] {
            try? device.set(timePath, .time(currentTime))
        }
        if counter % 10 == 0 {
            batteryLevel = batteryLevel > 0 ? batteryLevel - 1 : 100
            try? device.set(LwM2MPath(3, 0, DeviceObject.Resource.batteryLevel), .integer(batteryLevel))
        }
    }
}
