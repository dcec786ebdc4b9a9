internal import CCurl
import BegawiCore

extension CurlTransport {
    /// Headers the transport sets itself; a request may not set them.
    private static let reservedHeaders: Set<String> = ["authorization", "content-length", "expect", "host", "transfer-encoding"]

    /// Sets the options that hold for every transfer on this handle.
    func configure() throws {
        try set(CURLOPT_NOSIGNAL, 1)  // curl's resolver timeout would otherwise use SIGALRM, which is process-wide
        try set(CURLOPT_PROTOCOLS_STR, "https")
        try set(CURLOPT_REDIR_PROTOCOLS_STR, "https")
        try set(CURLOPT_FOLLOWLOCATION, 0)
        // Trust only the configured CA: no system store, whatever the distribution compiled in.
        try set(CURLOPT_CAINFO, caFile)
        try set(CURLOPT_CAPATH, nil)
        try set(CURLOPT_SSL_VERIFYPEER, 1)
        try set(CURLOPT_SSL_VERIFYHOST, 2)
        try set(CURLOPT_SSLVERSION, Int(CURL_SSLVERSION_TLSv1_2))
        try set(CURLOPT_CONNECTTIMEOUT_MS, options.connectTimeoutMs)
        try set(CURLOPT_LOW_SPEED_LIMIT, options.lowSpeedLimitBytesPerSecond)
        try set(CURLOPT_LOW_SPEED_TIME, options.lowSpeedTimeSeconds)
        try set(CURLOPT_TCP_KEEPALIVE, 1)
        try set(CURLOPT_TCP_KEEPIDLE, options.keepAliveIdleSeconds)
        try set(CURLOPT_TCP_KEEPINTVL, 60)
        try set(CURLOPT_ACCEPT_ENCODING, "")  // offer every encoding curl can decode, and decode it
        try set(CURLOPT_USERAGENT, options.userAgent)
        try check(begawi_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer), CURLOPT_ERRORBUFFER)
        try check(begawi_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
            let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
            transfer.body.append(contentsOf: bytes)
            return bytes.count
        }, CURLOPT_WRITEFUNCTION)
        try check(begawi_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
            let line = UnsafeRawBufferPointer(start: data, count: size * count)
            transfer.receiveHeaderLine(line)
            return line.count
        }, CURLOPT_HEADERFUNCTION)
        // The progress callback runs at least once a second, even on a stalled transfer: it is where cancellation lands.
        try check(begawi_curl_setopt_xferinfo(handle, CURLOPT_XFERINFOFUNCTION) { context, _, downloaded, _, uploaded in
            let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
            transfer.progressed(to: Int64(downloaded) + Int64(uploaded))
            return transfer.cancellation.isCancelled ? 1 : 0
        }, CURLOPT_XFERINFOFUNCTION)
        try set(CURLOPT_NOPROGRESS, 0)
    }

    /// Forgets what pointed into one transfer's memory, so the handle never holds a dangling pointer between transfers.
    func clearRequestOptions() {
        _ = begawi_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, nil)
        _ = begawi_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, nil)
        _ = begawi_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, -1)
        for option in [CURLOPT_WRITEDATA, CURLOPT_HEADERDATA, CURLOPT_XFERINFODATA] {
            _ = begawi_curl_setopt_pointer(handle, option, nil)
        }
    }

    /// Whether the request is a POST; the transport sends only GET and POST.
    static func isPost(_ request: HubRequest) throws -> Bool {
        guard request.path.hasPrefix("/") else {
            throw BegawiError(.invalidArgument, "the request path '\(request.path)' does not start with '/'")
        }
        switch request.method.uppercased() {
        case "GET": return false
        case "POST": return true
        default: throw BegawiError(.invalidArgument, "the hub transport sends only GET and POST, not '\(request.method)'")
        }
    }

    /// The request's header list for curl: authorization, encodings and the caller's headers. The caller frees it.
    func headerLines(for request: HubRequest, isPost: Bool, gzip: Bool) throws -> UnsafeMutablePointer<curl_slist>? {
        // An empty "Expect:" stops curl from sending "Expect: 100-continue" and waiting a round trip for the go-ahead.
        var lines = ["Authorization: Bearer \(credential)", "Expect:"]
        if gzip { lines.append("Content-Encoding: gzip") }
        var hasContentType = false
        for (name, value) in request.headers {
            let lower = name.lowercased()
            guard !name.isEmpty, !"\(name)\(value)".contains(where: { $0 == "\r" || $0 == "\n" }), !name.contains(":") else {
                throw BegawiError(.invalidArgument, "a request header's name or value contains a line break or colon; headers must be single lines")
            }
            guard !Self.reservedHeaders.contains(lower), !(gzip && lower == "content-encoding") else {
                throw BegawiError(.invalidArgument, "the request sets the header '\(name)', which the hub transport sets itself; remove it from the request")
            }
            if lower == "content-type" { hasContentType = true }
            lines.append("\(name): \(value)")
        }
        // Without it curl would label a POST body application/x-www-form-urlencoded.
        if isPost && !hasContentType { lines.append("Content-Type: application/octet-stream") }
        var list: UnsafeMutablePointer<curl_slist>?
        for line in lines {
            guard let longer = curl_slist_append(list, line) else {
                curl_slist_free_all(list)
                throw BegawiError(.invalidArgument, "libcurl could not build the request headers (out of memory?)")
            }
            list = longer
        }
        return list
    }

    /// Sets a numeric option.
    func set(_ option: CURLoption, _ value: Int) throws {
        try check(begawi_curl_setopt_long(handle, option, value), option)
    }

    /// Sets a text option; curl copies the text.
    func set(_ option: CURLoption, _ value: String?) throws {
        try check(begawi_curl_setopt_string(handle, option, value), option)
    }

    /// Turns a refused option into an error that names it and the libcurl version.
    func check(_ code: CURLcode, _ option: CURLoption) throws {
        guard code != CURLE_OK else { return }
        let name = curl_easy_option_by_id(option).map { String(cString: $0.pointee.name) } ?? "option \(option.rawValue)"
        let version = String(cString: curl_version())
        throw BegawiError(.configuration, "\(version) refused CURLOPT_\(name); install libcurl 7.85 or newer built with OpenSSL", cause: String(cString: curl_easy_strerror(code)))
    }
}
