@testable import CoAP
@testable import LwM2M
import Testing

/// Notification storing while offline (/1/x/6), composite observations and gt / lt / st on
/// multi-instance resources.
@Suite struct ReportingOfflineCompositeTests {
    // MARK: - Offline

    @Test func storingOnQueuesInOrderAndFlushesWhenBackOnline() throws {
        var rig = try ReportingRig()
        let id = rig.observe(LwM2MPath(3, 0, 9))
        rig.engine.setOnline(false)
        #expect(try rig.battery(90, at: 1).isEmpty)
        #expect(try rig.battery(80, at: 2).isEmpty)
        #expect(rig.engine.storedNotifications.map(\.response.text) == ["90", "80"])
        rig.engine.setOnline(true)
        #expect(rig.engine.nextDeadline == .zero)  // the stored ones are due at once
        let flushed = rig.update(at: 3)
        #expect(flushed.map(\.response.text) == ["90", "80"])
        #expect(flushed.allSatisfy { $0.observation == id })
        #expect(rig.engine.storedNotifications.isEmpty)
        #expect(try rig.battery(70, at: 4).map { $0 } == ["70"])
    }

    @Test func storageIsBoundedOldestDropped() throws {
        var rig = try ReportingRig()
        _ = rig.observe(LwM2MPath(3, 0, 9))
        rig.engine.storageLimit = 2
        rig.engine.setOnline(false)
        for (second, level) in [(1.0, Int64(91)), (2, 92), (3, 93), (4, 94)] { _ = try rig.battery(level, at: second) }
        #expect(rig.engine.droppedNotifications == 2)
        rig.engine.setOnline(true)
        #expect(rig.update(at: 5).map(\.response.text) == ["93", "94"])
    }

    @Test func storingOffSuspendsReportingAndSendsTheLatestOnReturn() throws {
        var rig = try ReportingRig()
        rig.writeAttributes("/3/0/9", "pmax=10")
        _ = rig.observe(LwM2MPath(3, 0, 9))
        rig.engine.storesNotificationsWhenOffline = false
        rig.engine.setOnline(false)
        #expect(rig.engine.nextDeadline == nil)  // nothing to wake up for
        #expect(try rig.battery(90, at: 1).isEmpty)
        #expect(try rig.battery(80, at: 2).isEmpty)
        #expect(rig.update(at: 30).isEmpty)
        #expect(rig.engine.storedNotifications.isEmpty)
        rig.engine.setOnline(true)
        #expect(rig.update(at: 31).map(\.response.text) == ["80"])
        #expect(rig.update(at: 32).isEmpty)
    }

    @Test func cancelDropsStoredNotifications() throws {
        var rig = try ReportingRig()
        let id = rig.observe(LwM2MPath(3, 0, 9))
        rig.engine.setOnline(false)
        _ = try rig.battery(90, at: 1)
        rig.engine.cancel(observation: id)
        rig.engine.setOnline(true)
        #expect(rig.update(at: 2).isEmpty)
    }

    @Test func storingFlagComesFromTheServerAccount() throws {
        let on = try MultiServer(storing: true)
        let off = try MultiServer(storing: false)
        #expect(ServerContext(shortServerID: 101).storesNotificationsWhenOffline(in: on.registry))
        #expect(!ServerContext(shortServerID: 101).storesNotificationsWhenOffline(in: off.registry))
        #expect(ServerContext(shortServerID: 999).storesNotificationsWhenOffline(in: off.registry))
    }

    // MARK: - Composite

    @Test func compositeObservationNotifiesWithEveryPath() throws {
        var rig = try ReportingRig()
        let paths = [LwM2MPath(3, 0, 9), LwM2MPath(32769, 0, 0)]
        let id = ObservationID(rawValue: 7)
        rig.engine.observe(paths: paths, observation: id, format: ContentFormat.senmlJSON, registry: rig.registry,
                           attributes: rig.store, at: rig.at(0))
        #expect(rig.engine.paths(of: id) == paths)
        #expect(rig.engine.compositeObservations(of: paths) == [id])
        #expect(rig.engine.observations(at: LwM2MPath(3, 0, 9)).isEmpty)
        let notifications = try rig.battery(42, at: 1)
        #expect(notifications == [#"[{"bn":"/3/0/","n":"9","v":42},{"bn":"/32769/0/","n":"0","vs":"zero"}]"#])
        // A change to the other path notifies too.
        try rig.responder.test.set(LwM2MPath(32769, 0, 0), .string("one"))
        let second = rig.update(at: 2)
        #expect(second.map(\.response.text) == [#"[{"bn":"/3/0/","n":"9","v":42},{"bn":"/32769/0/","n":"0","vs":"one"}]"#])
        #expect(second.first?.response.contentFormat == ContentFormat.senmlJSON)
        // A deleted instance is left out rather than ending the observation.
        rig.responder.test.removeInstance(0)
        #expect(rig.update(at: 3).map(\.response.text) == [#"[{"bn":"/3/0/","n":"9","v":42}]"#])
        #expect(rig.engine.observations == [id])
    }

    @Test func compositePeriodsAreTheSmallestOverThePaths() throws {
        var rig = try ReportingRig()
        rig.writeAttributes("/3/0/9", "pmin=5", "pmax=50")
        rig.writeAttributes("/3/0/13", "pmin=2", "pmax=20")
        let id = ObservationID(rawValue: 8)
        rig.engine.observe(paths: [LwM2MPath(3, 0, 9), LwM2MPath(3, 0, 13)], observation: id,
                           format: ContentFormat.senmlCBOR, registry: rig.registry, attributes: rig.store, at: rig.at(0))
        #expect(rig.engine.nextDeadline == rig.at(20))
        #expect(try rig.battery(1, at: 1).isEmpty)  // pmin 2
        #expect(rig.update(at: 2).count == 1)
    }

    @Test func emptyCompositePathListDoesNotTrap() throws {
        var rig = try ReportingRig()
        let id = ObservationID(rawValue: 9)
        rig.engine.observe(paths: [], observation: id, format: ContentFormat.senmlJSON, registry: rig.registry,
                           attributes: rig.store, at: rig.at(0))
        #expect(rig.engine.path(of: id) == .root)
        #expect(rig.update(at: 1).isEmpty)
    }

    // MARK: - Server defaults

    /// TS 1.1 §5.1.2 / §6.4: Default Minimum and Maximum Period (/1/x/2, /1/x/3) apply only where
    /// no level sets pmin / pmax; they cap nothing (a longer pmax at any level wins).
    @Test func serverDefaultsApplyOnlyWhereNoLevelSetsTheAttribute() throws {
        let servers = try MultiServer([101])
        var rig = try ReportingRig()
        // The rig's own registry: copy the server account's defaults (pmin 1, pmax 60).
        rig.store.loadServerDefaults(from: servers.registry, server: ServerContext(shortServerID: 101))
        #expect(rig.store.defaults == NotificationAttributes(pmin: 1, pmax: 60))
        rig.writeAttributes("/3", "pmax=120")
        rig.writeAttributes("/3/0", "pmin=3")
        rig.writeAttributes("/3/0/9", "pmax=10")
        #expect(rig.store.effective(for: LwM2MPath(3, 0, 9)) == NotificationAttributes(pmin: 3, pmax: 10))
        #expect(rig.store.effective(for: LwM2MPath(3, 0, 13)) == NotificationAttributes(pmin: 3, pmax: 120))
        #expect(rig.store.effective(for: LwM2MPath(32769, 0, 0)) == NotificationAttributes(pmin: 1, pmax: 60))
        _ = rig.observe(LwM2MPath(3, 0, 13))
        #expect(rig.engine.nextDeadline == rig.at(120))  // not capped at the default 60
    }

    // MARK: - gt / lt / st on a multi-instance resource

    @Test func thresholdsApplyToEachResourceInstance() throws {
        var rig = try ReportingRig()
        rig.writeAttributes("/32769/0/1", "st=5")
        let id = rig.observe(LwM2MPath(32769, 0, 1), format: ContentFormat.senmlJSON)
        let values = LwM2MPath(32769, 0, 1)
        // 10 → 12, 20 → 21: below the step.
        try rig.responder.test.set(values, .multiple([0: .integer(12), 1: .integer(21)]))
        #expect(rig.update(at: 1).isEmpty)
        // One instance moves by 5 from the last notified value (20 → 25).
        try rig.responder.test.set(values, .multiple([0: .integer(12), 1: .integer(25)]))
        #expect(rig.update(at: 2).map(\.observation) == [id])
        // An instance added counts as a change.
        try rig.responder.test.set(values, .multiple([0: .integer(12), 1: .integer(25), 2: .integer(0)]))
        #expect(rig.update(at: 3).count == 1)
        rig.writeAttributes("/32769/0/1", "st", "gt=50")
        try rig.responder.test.set(values, .multiple([0: .integer(12), 1: .integer(49), 2: .integer(0)]))
        #expect(rig.update(at: 4).isEmpty)
        try rig.responder.test.set(values, .multiple([0: .integer(12), 1: .integer(51), 2: .integer(0)]))
        #expect(rig.update(at: 5).count == 1)
    }
}
