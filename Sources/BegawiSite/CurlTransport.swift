public import BegawiCore
internal import CCurl
import Dispatch

/// The site's HTTPS client for the hub over libcurl: one reused connection, only the configured CA, gzip both ways.
///
/// It is `@unchecked Sendable` because the curl handle and the buffers it points at are touched only on
/// `queue`, a serial queue: transfers run one at a time, never concurrently. `init` and `deinit` are the only
/// other places that touch them, and no transfer can be queued before `init` returns or after the last
/// reference (which queued work holds) is gone. Every other stored property is an immutable `Sendable` value.
public final class CurlTransport: HubTransport, @unchecked Sendable {
    /// `curl_global_init`, run once per process before the first handle: a static `let` is initialized exactly once.
    private static let globalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    let endpoint: Endpoint
    let caFile: String
    let options: Options
    let credential: String
    let clock: any WallClock
    let handle: UnsafeMutableRawPointer
    /// The multi handle transfers run in (it keeps the connection between them): unlike
    /// `curl_easy_perform`, its wait can be woken from another thread, so a cancelled transfer
    /// (a held pull given up for a local write) ends at once rather than at the next second's tick.
    let multi: UnsafeMutableRawPointer
    /// curl writes its error text here (CURLOPT_ERRORBUFFER); it must outlive the handle.
    let errorBuffer: UnsafeMutablePointer<CChar>
    /// A valid address for an empty POST body: a NULL CURLOPT_POSTFIELDS would make curl read the body from stdin.
    let emptyBody: UnsafeMutableRawPointer
    /// Runs the blocking transfers off the cooperative pool, one at a time.
    private let queue = DispatchQueue(label: "begawi.site.hub-transport")

    /// Makes a client for the hub at `baseURL` (https only) that trusts only the CA certificates in `caFile`.
    public init(baseURL: String, caFile: String, credential: String, options: Options = Options(), clock: any WallClock = SystemWallClock()) throws {
        guard Self.globalInit == CURLE_OK else {
            throw BegawiError(.configuration, "libcurl could not initialize; check that libcurl and OpenSSL are installed correctly", cause: String(cString: curl_easy_strerror(Self.globalInit)))
        }
        let endpoint = try Self.endpoint(from: baseURL)
        try Self.checkCAFile(caFile)
        try Self.checkCredential(credential)
        try Self.checkOptions(options)
        guard let handle = curl_easy_init() else {
            throw BegawiError(.configuration, "libcurl could not make a connection handle (out of memory?); restart the site service")
        }
        guard let multi = curl_multi_init() else {
            curl_easy_cleanup(handle)
            throw BegawiError(.configuration, "libcurl could not make a connection handle (out of memory?); restart the site service")
        }
        self.multi = multi
        self.endpoint = endpoint
        self.caFile = caFile
        self.options = options
        self.credential = credential
        self.clock = clock
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        emptyBody = .allocate(byteCount: 1, alignment: 1)
        // Fully initialized: if configuring throws, deinit frees the handle and buffers.
        try configure()
    }

    deinit {
        // The multi handle first: it closes the kept connection, which refers to the easy handle's settings.
        curl_multi_cleanup(multi)
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
        emptyBody.deallocate()
    }

    /// Sends one request over the transport's connection, waiting off the cooperative pool; cancellation aborts it.
    public func send(_ request: HubRequest) async throws -> HubResponse {
        let cancellation = Cancellation()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                queue.async {
                    continuation.resume(with: Result { try self.perform(request, cancellation: cancellation) })
                }
            }
        } onCancel: {
            cancellation.cancel()
            curl_multi_wakeup(multi)
        }
    }

    /// Runs one transfer on `queue`.
    private func perform(_ request: HubRequest, cancellation: Cancellation) throws -> HubResponse {
        if cancellation.isCancelled { throw CancellationError() }
        let isPost = try Self.isPost(request)
        let gzip = isPost && request.gzipBody
        let body = gzip ? try Deflate.compress(request.body, gzip: true) : request.body
        let headerList = try headerLines(for: request, isPost: isPost, gzip: gzip)
        defer { curl_slist_free_all(headerList) }

        let transfer = Transfer(cancellation: cancellation, onActivity: options.onActivity)
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        defer { clearRequestOptions() }
        try set(CURLOPT_URL, endpoint.base + request.path)
        // A held request moves no bytes for minutes: curl's low-speed check would wake every second to
        // measure it, so the wait itself watches for silence instead (`runTransfer`).
        let held = request.holdSeconds > 0
        try set(CURLOPT_LOW_SPEED_LIMIT, held ? 0 : options.lowSpeedLimitBytesPerSecond)
        try set(CURLOPT_LOW_SPEED_TIME, options.lowSpeedTimeSeconds)
        let silence = held ? Silence(beforeAnswer: .seconds(options.lowSpeedTimeSeconds + request.holdSeconds),
                                     afterAnswer: .seconds(options.lowSpeedTimeSeconds)) : nil
        try check(begawi_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList), CURLOPT_HTTPHEADER)
        for option in [CURLOPT_WRITEDATA, CURLOPT_HEADERDATA, CURLOPT_XFERINFODATA] {
            try check(begawi_curl_setopt_pointer(handle, option, context), option)
        }
        errorBuffer[0] = 0

        let (sentAt, code): (UInt64, CURLcode) = try withExtendedLifetime(transfer) {
            guard isPost else {
                try set(CURLOPT_HTTPGET, 1)
                return (clock.nowMilliseconds(), runTransfer(transfer, silence: silence))
            }
            try set(CURLOPT_POST, 1)
            return try body.withUnsafeBytes { bytes in
                // curl reads the body from this buffer during perform (CURLOPT_POSTFIELDS does not copy).
                let pointer = UnsafeMutableRawPointer(mutating: bytes.baseAddress) ?? emptyBody
                try check(begawi_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count)), CURLOPT_POSTFIELDSIZE_LARGE)
                try check(begawi_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, pointer), CURLOPT_POSTFIELDS)
                return (clock.nowMilliseconds(), runTransfer(transfer, silence: silence))
            }
        }
        let receivedAt = clock.nowMilliseconds()
        guard code == CURLE_OK else { throw error(for: code, cancellation: cancellation) }
        var status = 0
        _ = begawi_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HubResponse(status: status, headers: transfer.headers, body: transfer.body, sentAt: sentAt, receivedAt: receivedAt)
    }
}
