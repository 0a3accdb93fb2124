import AgentCommon
import CoAP
import DTLS
import Files
import Firmware
import Glibc
import LwM2M
import Time
import Transport

// Pulls from a Package URI: CoAP (Block2) or HTTP(S) into the object's image store, on the loop.

extension FirmwareRunner {
    func startDownload(_ text: String, resumeFrom: Int64, etag: [UInt8]?) {
        guard let loop else { return finishDownload(.failure(.connect("no event loop"))) }
        stopDownload(cancelling: false)
        noteDownloadStarted(text, resumeFrom: resumeFrom, etag: etag)
        let sink = ImageStoreSink(store: objectStore)
        self.sink = sink
        // The signed store resumes where it stands, and can be cut back within the image only:
        // a CoAP resume goes back to a block boundary (up to 1023 bytes), so with less image than
        // that stored the download starts over.
        let resume = resumeFrom > 0 && (signedStore.map { resumeFrom == sink.size && resumeFrom - $0.headerSize >= 1024 } ?? true)
            ? ResumePoint(offset: resumeFrom, validator: etag) : nil
        lastLoggedPercent = -1
        lastLoggedBytes = 0
        lastLoggedAt = MonotonicClock.now()
        downloadTotal = nil
        // Without user information or query: a password or a signed URL's token stays out of the log.
        log.notice("firmware: downloading \(Self.withoutCredentials(text))\(resume.map { " from byte \($0.offset)" } ?? "")")
        let lowered = text.lowercased()
        do throws(FirmwareDownloadError) {
            if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") {
                var options = HTTPDownloadOptions()
                options.caFile = settings.httpCA
                run(try HTTPDownload(url: text, sink: sink, resume: resume, options: options, loop: loop))
            } else {
                let uri: CoAPURI
                do { uri = try CoAPURI(text) } catch { throw .invalidURI("\(error)") }
                guard let peer = SocketAddress(ipAddress: uri.host, port: uri.port) else {
                    // A host name resolves on a thread of its own (a hanging DNS must not stall
                    // the loop); the download starts when the address comes back.
                    return try resolve(uri, sink: sink, resume: resume)
                }
                try startCoAP(uri, peer: peer, sink: sink, resume: resume)
            }
        } catch {
            finishDownload(.failure(error))
        }
    }

    func startCoAP(_ uri: CoAPURI, peer: SocketAddress, sink: ImageStoreSink, resume: ResumePoint?)
        throws(FirmwareDownloadError) {
        guard let loop else { throw .connect("no event loop") }
        var options = CoAPDownloadOptions()
        options.endpoint.transmission.ackTimeout = ackTimeout
        if uri.scheme == .coaps { options.dtls = try dtlsConfiguration(for: uri) }
        // MAX_RETRANSMIT stays at the RFC's 4 whatever `max-retransmit` says: a block given up
        // is not lost (the runner resumes there after a short back-off), whereas more doublings
        // of the timer would slow every lossy download down.
        run(try CoAPDownload(uri: uri, peer: peer, sink: sink, resume: resume, options: options, loop: loop))
    }

    /// The DTLS settings of a `coaps` download: the credentials of the Security instance for
    /// that host and port (`DownloadServerAccount`), built as for a server connection
    /// (`DTLSConfiguration.forAccount`: secrets from the credential store, TPM keys signing in
    /// the TPM). Only the instance is logged, never a secret.
    func dtlsConfiguration(for uri: CoAPURI) throws(FirmwareDownloadError) -> DTLSConfiguration {
        guard let downloadCredentials else { throw .noCredentials("no Security object to take them from") }
        switch downloadCredentials(uri) {
        case .success(let (instance, configuration)):
            log.info("firmware: coaps download with the credentials of Security instance /0/\(instance)")
            return configuration
        case .failure(let error):
            throw error
        }
    }

    /// Makes `made` the download under way and starts it.
    private func run(_ made: any FirmwareDownload) {
        made.onProgress = { [unowned self] in progress($0) }
        made.onFinish = { [unowned self] in finishDownload($0) }
        download = made
        made.start(at: MonotonicClock.now())
    }

    func resolve(_ uri: CoAPURI, sink: ImageStoreSink, resume: ResumePoint?) throws(FirmwareDownloadError) {
        guard let loop else { throw .connect("no event loop") }
        if resolver == nil {
            do {
                let made = try BackgroundResolver(maximumInFlight: 4)
                loop.watch(readable: made.fileDescriptor) { [unowned self] _ in
                    for completion in made.takeResults() { resolved(completion) }
                }
                resolver = made
            } catch {
                throw .nameResolution("\(error)")
            }
        }
        resolutionToken &+= 1
        do {
            try resolver!.submit(resolutionToken, host: uri.host, port: uri.port)
        } catch {
            throw .nameResolution("\(error)")
        }
        resolving = (resolutionToken, uri, sink, resume)
    }

    func resolved(_ completion: BackgroundResolver.Completion) {
        guard let pending = resolving, pending.token == completion.token else { return }  // cancelled meanwhile
        resolving = nil
        do throws(FirmwareDownloadError) {
            let addresses: [SocketAddress]
            do { addresses = try completion.result.get() } catch { throw .nameResolution("\(error)") }
            guard let peer = addresses.first else { throw .nameResolution("\(pending.uri.host): no address") }
            try startCoAP(pending.uri, peer: peer, sink: pending.sink, resume: pending.resume)
        } catch {
            finishDownload(.failure(error))
        }
        step()
    }


    var objectStore: any FirmwareImageStore { signedStore ?? filesStore }

    func progress(_ progress: DownloadProgress) {
        object.downloadProgress(bytes: progress.received, etag: progress.validator)
        if let validator = progress.validator { pullRetry.validator = validator }
        if let total = progress.total { downloadTotal = total }
        // Every 10 % (every MiB without a known size), and at least every `progressLogInterval`
        // on a slow link; never per block.
        let now = MonotonicClock.now()
        let overdue = lastLoggedAt.map { now - $0 >= Self.progressLogInterval } ?? false
        if let total = downloadTotal, total > 0 {
            let percent = Int(progress.received * 100 / total)
            if percent / 10 > lastLoggedPercent / 10 || (overdue && progress.received > lastLoggedBytes) {
                lastLoggedPercent = percent
                lastLoggedBytes = progress.received
                lastLoggedAt = now
                log.info("firmware: downloaded \(progress.received) of \(total) bytes (\(percent) %)")
            }
        } else if progress.received - lastLoggedBytes >= 1 << 20 || (overdue && progress.received > lastLoggedBytes) {
            lastLoggedBytes = progress.received
            lastLoggedAt = now
            log.info("firmware: downloaded \(progress.received) bytes")
        }
        step()
    }

    func finishDownload(_ outcome: Result<DownloadProgress, FirmwareDownloadError>) {
        let sink = self.sink
        switch outcome {
        case .success(let progress):
            if let image = sink?.image {
                log.notice("firmware: download complete, \(image.size) bytes")
                object.downloadFinished(.success(image))
            } else {
                log.error("firmware: download ended without an image (\(progress.received) bytes)")
                object.downloadFinished(.failure(.updateFailed))
            }
        case .failure(.cancelled):
            break
        case .failure(let error) where sink?.rejection == nil && scheduleResume(after: error):
            break  // resumed from the stored bytes after a back-off
        case .failure(let error):
            let result = sink?.rejection?.updateResult
                ?? FirmwareUpdateResult(rawValue: error.updateResultCode) ?? .updateFailed
            log.warning("firmware: download failed at byte \(sink?.size ?? 0): \(sink?.rejection?.description ?? error.description) (Update Result \(result.rawValue))")
            object.downloadFinished(.failure(result))
        }
        loopLater { [weak self] in self?.releaseDownload() }
        step()
    }

    /// Ends a download in progress (its callbacks are off); `cancelling` only changes the log.
    func stopDownload(cancelling: Bool) {
        download?.onFinish = nil
        download?.cancel()
        pullRetry.at = nil
        releaseDownload()
    }

    func releaseDownload() {
        resolving = nil
        download = nil
        sink = nil
    }

    /// Runs `work` at the next step (a download may not be released from its own callback).
    func loopLater(_ work: @escaping () -> Void) { deferred.append(work) }

    /// Runs what was deferred to after the callbacks (the loop calls it every round).
    func afterCallbacks() {
        let work = deferred
        deferred = []
        for item in work { item() }
    }
}
