internal import CCurl
import BegawiCore
import Foundation

extension CurlTransport {
    /// Turns a transfer that ended without an HTTP answer into an error that says what happened and what to do.
    func error(for code: CURLcode, cancellation: Cancellation) -> any Error {
        if code == CURLE_ABORTED_BY_CALLBACK, cancellation.isCancelled { return CancellationError() }
        var osErrno = 0
        var verifyResult = 0
        var pretransfer: curl_off_t = 0
        _ = begawi_curl_getinfo_long(handle, CURLINFO_OS_ERRNO, &osErrno)
        _ = begawi_curl_getinfo_long(handle, CURLINFO_SSL_VERIFYRESULT, &verifyResult)
        _ = begawi_curl_getinfo_off_t(handle, CURLINFO_PRETRANSFER_TIME_T, &pretransfer)
        let detail = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        // curl's text never holds request headers; replacing the credential anyway keeps that a guarantee.
        let cause = "curl error \(code.rawValue): \(detail)".replacingOccurrences(of: credential, with: "<credential>")
        let hub = "the hub at \(endpoint.origin)"

        func network(_ message: String) -> BegawiError { BegawiError(.network, message, cause: cause) }
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST:
            return network("the hub's host name \(endpoint.host) could not be resolved; check the DNS settings and hub_url")
        case CURLE_COULDNT_CONNECT where detail.contains("reset by peer"):
            // curl retried a reused connection that died, and the retry failed too: report the reset.
            return network("the connection to \(hub) was reset during the transfer; nothing unacknowledged is lost and the next round resumes")
        case CURLE_COULDNT_CONNECT where osErrno == Int(ECONNREFUSED):
            return network("\(hub) refused the connection; check that the hub is running and that hub_url names its HTTPS port")
        case CURLE_COULDNT_CONNECT where osErrno == Int(ENETUNREACH) || osErrno == Int(EHOSTUNREACH):
            return network("\(hub) cannot be reached from this site (no route); check the network")
        case CURLE_COULDNT_CONNECT where osErrno == Int(ETIMEDOUT):
            return network("\(hub) did not answer; check the network")
        case CURLE_COULDNT_CONNECT:
            return network("could not connect to \(hub); check the network and hub_url")
        case CURLE_OPERATION_TIMEDOUT where pretransfer > 0:
            // Connected, then the low-speed limit fired: the only other timeout curl has here is the connect timeout.
            return network("\(hub) stopped responding: less than \(options.lowSpeedLimitBytesPerSecond) bytes/s for \(options.lowSpeedTimeSeconds) s; check the network")
        case CURLE_OPERATION_TIMEDOUT:
            return network("\(hub) did not answer within \(Self.duration(milliseconds: options.connectTimeoutMs)); check the network")
        case CURLE_PEER_FAILED_VERIFICATION where detail.contains("host name") || verifyResult == 62 || verifyResult == 64:
            // curl checks the name itself after OpenSSL verified the chain, and leaves the verify result unset (1)
            // when the name fails: its message is the reliable sign. 62 and 64 are OpenSSL's own name mismatches.
            return network("the certificate of \(hub) is not made for the name \(endpoint.host); set hub_url to a name or address that the hub's certificate lists")
        case CURLE_PEER_FAILED_VERIFICATION where verifyResult == 9:  // X509_V_ERR_CERT_NOT_YET_VALID
            return network("the certificate of \(hub) is not valid yet; check this machine's clock")
        case CURLE_PEER_FAILED_VERIFICATION where verifyResult == 10:  // X509_V_ERR_CERT_HAS_EXPIRED
            return network("the certificate of \(hub) has expired (or this machine's clock is ahead); renew the hub's certificate or check the clock")
        case CURLE_PEER_FAILED_VERIFICATION:
            return network("the hub's certificate is not signed by the CA in \(caFile); check ca_file in the site configuration")
        case CURLE_SSL_CACERT_BADFILE:
            return BegawiError(.configuration, "the CA file \(caFile) could not be loaded as PEM certificates; check ca_file in the site configuration", cause: cause)
        case CURLE_SSL_CONNECT_ERROR where osErrno == Int(ECONNRESET):
            return network("\(hub) reset the connection during the TLS handshake; check the network and that hub_url names the hub's HTTPS port")
        case CURLE_SSL_CONNECT_ERROR:
            return network("the TLS handshake with \(hub) failed; check that hub_url names the hub's HTTPS port and that the hub offers TLS 1.2 or newer")
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR:
            let what = osErrno == Int(ECONNRESET) ? "was reset" : "broke"
            return network("the connection to \(hub) \(what) during the request; check the network")
        case CURLE_GOT_NOTHING:
            return network("\(hub) closed the connection without answering; check the hub's log")
        case CURLE_PARTIAL_FILE:
            return network("\(hub) closed the connection before the whole answer arrived; check the network")
        case CURLE_BAD_CONTENT_ENCODING:
            return network("the answer of \(hub) could not be decoded (damaged compression); check the network and the hub")
        case CURLE_URL_MALFORMAT:
            return BegawiError(.invalidArgument, "the request path does not make a valid URL with hub_url \(endpoint.base)", cause: cause)
        case CURLE_ABORTED_BY_CALLBACK:
            return network("the request to \(hub) was aborted")
        default:
            return network("the request to \(hub) failed; check the network")
        }
    }

    /// "10 s" or "2500 ms", for messages.
    static func duration(milliseconds: Int) -> String {
        milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
    }
}
