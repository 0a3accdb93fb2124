import CMbedTLS
import Time

/// Setting up mbedTLS for a session: one configuration and context per session.
extension DTLSClientSession {
    /// Fills `config` and sets up `ssl` for `configuration`: RNG, DTLS 1.2 only, suites,
    /// handshake timers, credentials, server trust, SNI, and the I/O and timer callbacks.
    func configure(_ configuration: DTLSConfiguration) throws(DTLSError) {
        var status = mbedTLS.mbedtls_ssl_config_defaults(config, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT)
        guard status == 0 else { throw DTLSError.library(status) }
        mbedTLS.mbedtls_ssl_conf_rng(config, RandomBox.callback, random.opaque)
        mbedTLS.mbedtls_ssl_conf_min_version(config, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3)  // DTLS 1.2
        mbedTLS.mbedtls_ssl_conf_ciphersuites(config, suites)
        mbedTLS.mbedtls_ssl_conf_handshake_timeout(config, Self.milliseconds(configuration.handshakeTimeoutMin),
                                                   Self.milliseconds(configuration.handshakeTimeoutMax))
        mbedTLS.mbedtls_ssl_conf_session_tickets(config, MBEDTLS_SSL_SESSION_TICKETS_ENABLED)

        switch configuration.authentication {
        case .psk(let identity, let key):
            guard !identity.isEmpty, !key.isEmpty else { throw .invalidConfiguration("PSK identity and key must not be empty") }
            status = key.withUnsafeBytes { bytes in
                mbedTLS.mbedtls_ssl_conf_psk(config, bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count, identity, identity.count)
            }
            guard status == 0 else { throw .invalidConfiguration("PSK rejected by mbedTLS (\(DTLSError.library(status)))") }
            mbedTLS.mbedtls_ssl_conf_authmode(config, MBEDTLS_SSL_VERIFY_NONE)
        case .certificate(let chain, let signer):
            try MbedTLSGuard.check()
            guard !chain.isEmpty else { throw .invalidConfiguration("client certificate chain is empty") }
            for der in chain {
                status = mbedTLS.mbedtls_x509_crt_parse_der(ownCertificates, der, der.count)
                guard status == 0 else { throw .invalidConfiguration("client certificate is not DER X.509 (\(DTLSError.library(status)))") }
            }
            let key = try SignerKey(signer: signer)
            signerKey = key
            guard Self.publicKeyMatches(ownCertificates, signer.publicKeyPoint) else {
                throw .invalidConfiguration("client certificate does not belong to the signing key")
            }
            status = mbedTLS.mbedtls_ssl_conf_own_cert(config, ownCertificates, key.context)
            guard status == 0 else { throw DTLSError.library(status) }
            guard let trust = configuration.serverTrust else {
                throw .invalidConfiguration("certificate mode needs a server trust rule (/0/x/4 and /0/x/15)")
            }
            let verifier = try CertificateVerifier(trust: trust, additionalAnchors: configuration.additionalTrustAnchors)
            self.verifier = verifier
            mbedTLS.mbedtls_ssl_conf_ca_chain(config, verifier.anchors, nil)
            mbedTLS.mbedtls_ssl_conf_authmode(config, MBEDTLS_SSL_VERIFY_REQUIRED)
            mbedTLS.mbedtls_ssl_conf_verify(config, CertificateVerifier.callback, verifier.opaque)
        case .rawPublicKey:
            throw .backendUnavailable("raw public keys (RFC 7250) need the GnuTLS backend: mbedTLS does not implement them")
        }

        status = mbedTLS.mbedtls_ssl_setup(ssl, config)
        guard status == 0 else { throw DTLSError.library(status) }
        if let size = configuration.maximumDatagramSize { mbedTLS.mbedtls_ssl_set_mtu(ssl, UInt16(clamping: size)) }
        // SNI and the certificate name check share mbedTLS's host name: an IP literal is never
        // set (no SNI, and no name check for IP hosts: see DTLSConfiguration.serverName).
        if let name = configuration.sniHostName {
            status = mbedTLS.mbedtls_ssl_set_hostname(ssl, name)
            guard status == 0 else { throw .invalidConfiguration("server name \"\(name)\" is not usable") }
        }
        mbedTLS.mbedtls_ssl_set_bio(ssl, opaque, Self.sendCallback, Self.receiveCallback, nil)
        mbedTLS.mbedtls_ssl_set_timer_cb(ssl, opaque, Self.setTimerCallback, Self.getTimerCallback)
    }

    static func milliseconds(_ duration: Duration) -> UInt32 {
        UInt32(clamping: max(1, duration.nanosecondsClamped / 1_000_000))
    }

    private static func publicKeyMatches(_ certificate: UnsafeMutablePointer<mbedtls_x509_crt>, _ point: [UInt8]) -> Bool {
        guard mbedTLS.mbedtls_pk_get_type(&certificate.pointee.pk) == MBEDTLS_PK_ECKEY,
              let context = certificate.pointee.pk.pk_ctx?.assumingMemoryBound(to: mbedtls_ecp_keypair.self)
        else { return false }
        var buffer = [UInt8](repeating: 0, count: 65)
        var length = 0
        let status = mbedTLS.mbedtls_ecp_point_write_binary(&context.pointee.grp, &context.pointee.Q, MBEDTLS_ECP_PF_UNCOMPRESSED,
                                                            &length, &buffer, buffer.count)
        return status == 0 && length == 65 && buffer == point
    }
}
