/// The generic Linux board, compiled in so that a bare install (no board files) works: the same
/// text as board/generic-linux.conf (a test keeps them equal; edit both).
public enum GenericBoard {
    /// Its name; a `generic-linux.conf` in the board directory is used instead of this copy.
    public static let name = "generic-linux"

    /// The definition parsed from `text`.
    public static let definition: BoardDefinition = {
        do {
            return try BoardDefinition(parsing: text, file: "(compiled-in generic-linux.conf)", expectedName: name)
        } catch {
            fatalError("the compiled-in generic board is invalid: \(error)")  // a test parses it
        }
    }()

    /// The content of board/generic-linux.conf.
    public static let text = #"""
# Generic Linux (x86 or ARM): the board the agent uses when no other board file matches this
# machine's device tree or DMI. Everything is discovered at run time, nothing is assumed.
# This text is also compiled into the agent (Sources/Board/Definition/GenericBoard.swift; a test
# keeps the two equal), so a bare install without board files behaves the same.
#
# Sources (the kernel's documented ABI, Documentation/ABI/testing/ and stable/):
#   identity   /etc/machine-id is not a serial; the device tree's model and serial-number
#              (sysfs-firmware-ofw: /sys/firmware/devicetree/base = /proc/device-tree) on ARM,
#              DMI (sysfs-class-dmi: /sys/class/dmi/id/*) on x86; an absent file = an absent
#              resource.
#   power      sysfs-class-power: every /sys/class/power_supply/* (none on most servers/VMs)
#   thermal    sysfs-class-thermal: every /sys/class/thermal/thermal_zone*
#   network    sysfs-class-net: every /sys/class/net/* but lo
#   clock      the systemd unit drops CAP_SYS_TIME and sets ProtectClock=: not settable
#   reboot     systemctl reboot (org.freedesktop.login1)
# The x86 model (/sys/class/dmi/id/product_name) is not used: one source per value, and an ARM
# board's model comes from the device tree. Port a board file for a precise identity.

[board]
name = generic-linux
description = Generic Linux machine (x86 or ARM), everything discovered at run time

[identity]
manufacturer = file:/sys/class/dmi/id/sys_vendor
model = file:/proc/device-tree/model
serial = file:/proc/device-tree/serial-number
hardware-version = file:/sys/class/dmi/id/product_version
device-type = Gateway

[power]
supplies = auto

[thermal]
zones = auto

[network]
interfaces = auto

[clock]
settable = no
# The systemd unit (init/lwm2m-agentd.service) sets ProtectSystem=strict: /etc is read-only to the
# agent, so UTC Offset/Timezone writes are refused with 4.05 (timedatectl would be the way).
timezone = none

[reboot]
method = systemd

# No [tpm]: whether and how a TPM is attached is not known here; the agent uses agent.conf's
# tpm-tcti (default device:/dev/tpmrm0) as on every board.
"""#
}
