import CCurl

extension HTTPDownload {
    /// The download error for a failed transfer: libcurl's result `code`, the HTTP status of the
    /// last response, libcurl's message, and whether body bytes had arrived (a time-out before
    /// them is a failed connection, after them a lost one).
    static func error(for code: CURLcode, responseCode: Int, detail: String, bodyStarted: Bool) -> FirmwareDownloadError {
        switch code {
        case CURLE_HTTP_RETURNED_ERROR:
            .status("HTTP \(responseCode)")
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            .nameResolution(detail)
        case CURLE_COULDNT_CONNECT:
            .connect(detail)
        case CURLE_OPERATION_TIMEDOUT:
            bodyStarted ? .connectionLost(detail) : .connect(detail)
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            .tlsVerification(detail)
        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_ENGINE_NOTFOUND,
             CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_SHUTDOWN_FAILED:
            .tls(detail)
        case CURLE_UNSUPPORTED_PROTOCOL:
            .unsupportedScheme(detail)
        case CURLE_URL_MALFORMAT:
            .invalidURI(detail)
        case CURLE_TOO_MANY_REDIRECTS, CURLE_WEIRD_SERVER_REPLY, CURLE_BAD_CONTENT_ENCODING:
            .protocolViolation(detail)
        default:
            .connectionLost(detail)
        }
    }
}
