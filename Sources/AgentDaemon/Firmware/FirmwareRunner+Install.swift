import AgentCommon
import CoAP
import Files
import Firmware
import Glibc
import LwM2M
import Time
import Transport

// Installs (the configured installer on an `InstallJob` thread) and their confirmation after a
// restart; a reboot through the runtime's Reboot path when the installer asks for one.

extension FirmwareRunner {
    var version: String { object.persistentState.packageVersion ?? "unknown" }

    func install(_ image: FirmwareImage) {
        guard let installer else {
            log.error("firmware: Update executed but no installer is configured ([firmware] installer): update failed")
            object.installFinished(.updateFailed)
            return step()
        }
        // A record left from an earlier install must not make a restart take this one as done.
        try? AtomicFile.remove(paths.record)
        let version = version
        let path = image.path
        log.notice("firmware: installing \(path) (\(image.size) bytes, version \(version))")
        run(confirming: false) {
            // The image must still be the one stored and checked (a power cut, flash wear or a
            // hand may have changed it since): hashed again on the job's thread first.
            if let mismatch = ImageCheck.mismatch(image) { return .failed(.integrityFailure, detail: mismatch) }
            return installer.install(image: path, version: version)
        }
    }

    /// After a restart in Updating: an installer the previous agent left running (it died, not
    /// the machine) is stopped before anything is reported (never two installs at once, none
    /// running unseen), then the outcome is found out.
    func resolveInstallAfterRestart(_ image: FirmwareImage?) {
        let stopped = paths.leftovers.stop()
        if !stopped.isEmpty {
            log.warning("firmware: stopped the installer (pid \(stopped.map(String.init).joined(separator: ", "))) the previous agent left running")
        }
        resolveInstall(image)
    }

    func resolveInstall(_ image: FirmwareImage?) {
        guard let installer else {
            log.error("firmware: restarted while updating, but no installer is configured: update failed")
            object.installFinished(.updateFailed)
            return step()
        }
        guard let saved = try? FileReader.read(paths.record, maximumSize: 4096) else {
            // No record: the agent stopped while the installer ran; the outcome is unknown.
            log.warning("firmware: restarted while an install was running (no reboot was asked for): update failed")
            object.installFinished(.updateFailed)
            return step()
        }
        let install = InstallRecord(parsing: saved, fallbackVersion: self.version)
        let (version, record) = (install.version, install.record)
        if installer.confirmsOnlyAfterAReboot, install.rebooted(currentBootID: BootID.current()) == false {
            // A restart on the same boot (the reboot command failed, a crash): the old image
            // still runs; asking the installer now would take that for a failed update.
            log.warning("firmware: no reboot since the install of version \(version) (same boot ID): Updating until the board reboots (e.g. Reboot /3/0/4)")
            return
        }
        log.notice("firmware: confirming the install of version \(version) after the restart")
        run(confirming: true) { installer.confirm(version: version, record: record) }
        _ = image
    }

    func run(confirming: Bool, _ work: @escaping () -> InstallOutcome) {
        guard let loop else { return }
        do {
            let job = try InstallJob(work)
            let source = loop.watch(readable: job.fileDescriptor) { [unowned self] _ in
                guard let running = self.job, let outcome = running.job.take() else { return }
                loop.remove(running.source)
                self.job = nil
                finished(outcome, confirming: running.confirming)
            }
            self.job = (job, source, confirming)
        } catch {
            log.error("firmware: cannot start the installer thread: \(error)")
            object.installFinished(.updateFailed)
            step()
        }
    }

    func finished(_ outcome: InstallOutcome, confirming: Bool) {
        switch outcome {
        case .installed(rebootRequired: false, _):
            log.notice("firmware: version \(version) installed and running")
            try? AtomicFile.remove(paths.record)
            object.installFinished(.success)
        case .installed(rebootRequired: true, let record) where !confirming:
            do {
                let install = InstallRecord(version: version, record: record, bootID: BootID.current())
                try AtomicFile.write(install.encoded(), to: paths.record)
            } catch {
                log.error("firmware: cannot save the install record: \(error); not rebooting")
                object.installFinished(.updateFailed)
                return step()
            }
            log.notice("firmware: installed; a reboot activates it")
            requestReboot?()
        case .installed(rebootRequired: true, _):
            log.warning("firmware: the installer still wants a reboot after one: asking again later")
            confirmRetry = (MonotonicClock.now() + settings.confirmRetry, nil)
        case .undetermined(let detail):
            log.warning("firmware: cannot tell yet whether the install took (\(detail)); asking again in \(settings.confirmRetry.millisecondsClamped / 1000) s")
            confirmRetry = (MonotonicClock.now() + settings.confirmRetry, nil)
        case .failed(let failure, let detail):
            log.error("firmware: install failed (Update Result \(failure.rawValue)): \(detail)")
            try? AtomicFile.remove(paths.record)
            object.installFinished(failure.updateResult)
        }
        step()
    }
}
