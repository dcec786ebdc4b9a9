internal import CCurl
import BegawiCore
import Foundation

extension CurlTransport {
    /// Where the hub is: the base that request paths are appended to, and its origin for messages.
    struct Endpoint {
        /// The normalized base URL without a trailing slash.
        let base: String
        /// "https://host:port", named in messages.
        let origin: String
        /// The host name or address that the hub's certificate must name.
        let host: String
    }

    /// Parses and checks the hub's base URL with curl's own parser, so both agree on what it means.
    static func endpoint(from baseURL: String) throws -> Endpoint {
        let fix = "set hub_url to https://HOST:PORT"
        guard let url = curl_url() else {
            throw BegawiError(.configuration, "libcurl could not parse the hub URL (out of memory?); restart the site service")
        }
        defer { curl_url_cleanup(url) }
        func part(_ which: CURLUPart, _ flags: Int32 = 0) -> String? {
            var text: UnsafeMutablePointer<CChar>?
            guard curl_url_get(url, which, &text, UInt32(flags)) == CURLUE_OK, let text else { return nil }
            defer { curl_free(text) }
            return String(cString: text)
        }
        let parsed = curl_url_set(url, CURLUPART_URL, baseURL, UInt32(CURLU_NON_SUPPORT_SCHEME))
        // A user name or password in the URL would end up in messages and logs: refuse before echoing it.
        if parsed == CURLUE_OK, part(CURLUPART_USER) != nil || part(CURLUPART_PASSWORD) != nil {
            throw BegawiError(.configuration, "the hub URL carries a user name or password; remove it: the site authenticates with its credential file")
        }
        guard parsed == CURLUE_OK, let scheme = part(CURLUPART_SCHEME), let host = part(CURLUPART_HOST) else {
            throw BegawiError(.configuration, "the hub URL '\(baseURL)' is not a valid URL; \(fix)", cause: String(cString: curl_url_strerror(parsed)))
        }
        guard scheme == "https" else {
            throw BegawiError(.configuration, "the hub URL '\(baseURL)' is not https://; the site talks to the hub only over HTTPS, so \(fix)")
        }
        guard part(CURLUPART_QUERY) == nil, part(CURLUPART_FRAGMENT) == nil else {
            throw BegawiError(.configuration, "the hub URL '\(baseURL)' has a query or fragment; \(fix)")
        }
        let port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT) ?? "443"
        var base = part(CURLUPART_URL) ?? baseURL
        while base.hasSuffix("/") { base.removeLast() }
        return Endpoint(base: base, origin: "https://\(host):\(port)", host: host)
    }

    /// Checks that the CA file exists, is readable and holds a PEM certificate, so that a bad path fails at start.
    static func checkCAFile(_ path: String) throws {
        let fix = "set ca_file to the PEM file of the CA that signed the hub's certificate, readable by the begawi user"
        guard !path.isEmpty else {
            throw BegawiError(.configuration, "no CA file is configured; \(fix)")
        }
        guard let contents = FileManager.default.contents(atPath: path) else {
            throw BegawiError(.configuration, "the CA file \(path) is missing or unreadable; \(fix)")
        }
        guard String(decoding: contents, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") else {
            throw BegawiError(.configuration, "the CA file \(path) holds no PEM certificate; \(fix)")
        }
    }

    /// Checks that the limits are positive: zero would silently mean "wait five minutes" or "never abort" to curl.
    static func checkOptions(_ options: Options) throws {
        guard options.connectTimeoutMs > 0, options.lowSpeedLimitBytesPerSecond > 0, options.lowSpeedTimeSeconds > 0,
              (1...86_400).contains(options.keepAliveIdleSeconds) else {
            throw BegawiError(.configuration, "connect_timeout_ms and stall_seconds must be positive, and the keep-alive idle time 1–86400 s (got \(options.connectTimeoutMs) ms, \(options.lowSpeedTimeSeconds) s and \(options.keepAliveIdleSeconds) s, at \(options.lowSpeedLimitBytesPerSecond) bytes/s); fix them in the site configuration")
        }
    }

    /// Checks the credential without ever echoing it.
    static func checkCredential(_ credential: String) throws {
        guard !credential.isEmpty else {
            throw BegawiError(.configuration, "the site's credential is empty; put the credential the hub issued for this site in the credential file")
        }
        // A line break would let the credential file inject headers into every request.
        guard credential.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw BegawiError(.configuration, "the site's credential contains spaces, line breaks or non-ASCII characters; check the credential file (one line, as the hub issued it)")
        }
    }
}
