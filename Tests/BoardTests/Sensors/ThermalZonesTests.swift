import Board
import Glibc
import LwM2M
import TestSupport
import Testing

@Suite struct ThermalZonesTests {
    @Test func raspberryPiCPUZoneWithItsCriticalTripPoint() {
        let root = SensorFixtures.root("sensors-pi4-wifi")
        let zones = ThermalZones.all(in: root)
        #expect(zones == [ThermalZone(name: "thermal_zone0", type: "cpu-thermal")])  // cooling_device0 is no zone
        #expect(ThermalZones.celsius(of: zones[0], in: root) == 48.312)
        #expect(ThermalZones.tripPoints(of: zones[0], in: root)
            == [TripPoint(index: 0, celsius: 110, type: "critical")])
        #expect(ThermalZones.criticalCelsius(of: zones[0], in: root) == 110)
    }

    @Test func x86ZonesInNumericOrderWithTripPointsAndAFailingZone() {
        let root = SensorFixtures.root("sensors-x86-ipv6")
        let zones = ThermalZones.all(in: root)
        #expect(zones.map(\.name) == ["thermal_zone0", "thermal_zone1", "thermal_zone2", "thermal_zone10"])
        #expect(zones.map(\.type) == ["acpitz", "x86_pkg_temp", "iwlwifi_1", "pch_cannonlake"])
        #expect(zones.map { ThermalZones.celsius(of: $0, in: root) } == [27.8, 41, nil, -5.5])
        #expect(ThermalZones.tripPoints(of: zones[0], in: root).map(\.type) == ["critical", "passive"])
        #expect(ThermalZones.criticalCelsius(of: zones[0], in: root) == 119)
        // x86_pkg_temp's trip points are passive only: no range.
        #expect(ThermalZones.tripPoints(of: zones[1], in: root).count == 2)
        #expect(ThermalZones.criticalCelsius(of: zones[1], in: root) == nil)
    }

    @Test func selectionByNameOrTypeInTheBoardsOrder() {
        let root = SensorFixtures.root("sensors-x86-ipv6")
        let chosen = ThermalZones.select(.names(["x86_pkg_temp", "thermal_zone0", "gpu-thermal"]), in: root)
        #expect(chosen.zones.map(\.name) == ["thermal_zone1", "thermal_zone0"])
        #expect(chosen.missing == ["gpu-thermal"])
        #expect(ThermalZones.select(.none, in: root).zones.isEmpty)
        #expect(ThermalZones.select(.auto, in: root).zones.count == 4)
    }

    @Test func noThermalFrameworkMeansNoZones() {
        let root = SensorFixtures.root("sensors-no-network")
        #expect(ThermalZones.all(in: root).isEmpty)
        #expect(ThermalZones.select(.names(["cpu-thermal"]), in: root).missing == ["cpu-thermal"])
    }

    @Test func garbageReadsAsAbsentNeverAsAValue() {
        let root = SensorFixtures.root("sensors-garbage")
        let zones = ThermalZones.all(in: root)
        // thermal_zonex and thermal_zone-1 are not zones.
        #expect(zones.map(\.name) == ["thermal_zone0", "thermal_zone1", "thermal_zone2", "thermal_zone3"])
        #expect(zones[1].type == nil)
        for zone in zones { #expect(ThermalZones.celsius(of: zone, in: root) == nil, "\(zone)") }
        #expect(ThermalZones.tripPoints(of: zones[2], in: root).isEmpty)  // "hot" is no temperature
        #expect(ThermalZones.criticalCelsius(of: zones[2], in: root) == nil)
    }

    @Test func aChangedFileIsReadAgain() {
        let tree = SensorFixtures.scratch(["/sys/class/thermal/thermal_zone0/type": "cpu-thermal\n",
                                           "/sys/class/thermal/thermal_zone0/temp": "40000\n"])
        defer { SensorFixtures.remove(tree) }
        let sensor = ThermalZoneSensor(zone: ThermalZones.all(in: SystemRoot(tree))[0], root: SystemRoot(tree))
        #expect(sensor.celsius() == 40)
        SensorFixtures.write(tree + "/sys/class/thermal/thermal_zone0/temp", "61250\n")
        #expect(sensor.celsius() == 61.25)
        unlink(tree + "/sys/class/thermal/thermal_zone0/temp")  // the zone's driver unloaded
        #expect(sensor.celsius() == nil)
        SensorFixtures.write(tree + "/sys/class/thermal/thermal_zone0/temp", "-1000\n")
        #expect(sensor.celsius() == -1)
    }

    /// A `temp` the agent's user may not read (EACCES; as root the read is made as `nobody`,
    /// which root's DAC override would otherwise hide) reads as absent.
    @Test func anUnreadableTempIsAbsent() {
        let tree = SensorFixtures.scratch(["/sys/class/thermal/thermal_zone0/temp": "40000\n"])
        defer { SensorFixtures.remove(tree) }
        chmod(tree + "/sys/class/thermal/thermal_zone0/temp", 0)
        let root = SystemRoot(tree)
        let zone = ThermalZones.all(in: root)[0]
        #expect(withoutRootFileAccess { ThermalZones.celsius(of: zone, in: root) } == nil)
        #expect(ThermalZones.celsius(of: zone, in: root) == (getuid() == 0 ? 40 : nil))
    }

    /// A read that fails (EISDIR here, EACCES or the drivers' EAGAIN/ENODATA on a board) reads as
    /// absent, as root too.
    @Test func aTempThatCannotBeReadIsAbsent() {
        let tree = SensorFixtures.scratch(["/sys/class/thermal/thermal_zone0/temp/x": ""])
        defer { SensorFixtures.remove(tree) }
        let root = SystemRoot(tree)
        #expect(ThermalZones.celsius(of: ThermalZones.all(in: root)[0], in: root) == nil)
    }

    @Test func sensorReportsTypeAndCriticalTripAsRange() {
        let root = SensorFixtures.root("sensors-x86-ipv6")
        let sensors = ThermalZones.all(in: root).map { ThermalZoneSensor(zone: $0, root: root) }
        #expect(sensors.map(\.applicationType) == ["acpitz", "x86_pkg_temp", "iwlwifi_1", "pch_cannonlake"])
        #expect(sensors.map(\.rangeMaximum) == [119, nil, nil, nil])
        #expect(sensors.allSatisfy { $0.rangeMinimum == nil })
    }
}
