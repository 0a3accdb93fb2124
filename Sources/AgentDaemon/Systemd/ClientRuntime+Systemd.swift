import CoAP
import Glibc
import LwM2M
import Transport

/// The runtime's systemd notifications (``SystemdNotifier``): READY=1 once the loop runs,
/// STATUS= on state changes, RELOADING=1/READY=1 around SIGHUP, STOPPING=1, WATCHDOG=1 from
/// the loop.
final class SystemdLink {
    let notifier: SystemdNotifier
    var status: ServiceStatus
    var ready = false
    var stopping = false
    /// When the loop sends WATCHDOG=1 next (nil without a watchdog).
    var nextWatchdog: Instant?
    /// Whether the last send failed (logged once until a send succeeds again).
    var failing = false

    init(notifier: SystemdNotifier, endpoint: String) {
        self.notifier = notifier
        status = ServiceStatus(endpoint: endpoint)
    }
}

extension ClientRuntime {
    /// Notifies systemd through `notifier` from now on; with a watchdog the loop wakes at
    /// half its timeout to ping (and only then: no extra wake-ups without one).
    public func notifySystemd(with notifier: SystemdNotifier, endpoint: String) {
        let link = SystemdLink(notifier: notifier, endpoint: endpoint)
        systemd = link
        if let interval = notifier.watchdogInterval {
            link.nextWatchdog = MonotonicClock.now() + interval
            _ = eventLoop.addDeadline { [weak link] in link?.nextWatchdog }
        }
        logger.debug("systemd notifications to \(notifier.address)"
                     + (notifier.watchdogInterval.map { ", WATCHDOG=1 every \($0.millisecondsClamped) ms" } ?? ", no watchdog"))
    }

    /// READY=1 (once, when the loop is about to wait for the first time) with the status.
    func notifyReady() {
        guard let link = systemd, !link.ready else { return }
        link.ready = true
        send(.ready, link)
        send(.status(link.status.line), link)
    }

    /// STATUS= when `event` changed the line.
    func notifyStatus(after event: ClientEvent) {
        guard let link = systemd, !link.stopping, let line = link.status.apply(event) else { return }
        send(.status(line), link)
    }

    /// STOPPING=1 (once).
    func notifyStopping() {
        guard let link = systemd, !link.stopping else { return }
        link.stopping = true
        send(.stopping, link)
        send(.status("stopping: de-registering"), link)
    }

    /// RELOADING=1 before a reload, READY=1 after it.
    func notifyReloading() {
        guard let link = systemd else { return }
        send(.reloading(monotonicMicroseconds: SystemdNotifier.monotonicMicroseconds()), link)
    }

    func notifyReloaded() {
        guard let link = systemd else { return }
        send(.ready, link)
        send(.status(link.status.line), link)
    }

    /// WATCHDOG=1 when due; called by the loop after each wake-up, so a hung loop stops pinging.
    func pingWatchdogIfDue(at now: Instant) {
        guard let link = systemd, let due = link.nextWatchdog, now >= due,
              let interval = link.notifier.watchdogInterval else { return }
        // Keep the cadence when a wake-up came a little late; after a long stall start afresh
        // rather than catch up with a burst.
        let next = due + interval
        link.nextWatchdog = next > now ? next : now + interval
        send(.watchdog, link)
    }

    private func send(_ message: NotifyMessage, _ link: SystemdLink) {
        if let error = link.notifier.send(message) {
            if !link.failing {
                link.failing = true
                logger.warning("systemd notification to \(link.notifier.address) failed: \(String(cString: strerror(error)))")
            }
        } else if link.failing {
            link.failing = false
            logger.info("systemd notifications to \(link.notifier.address) work again")
        }
    }
}
