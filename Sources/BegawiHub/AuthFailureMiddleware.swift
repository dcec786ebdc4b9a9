import BegawiCore
import Foundation
import Hummingbird
import HTTPTypes
import Logging

/// Slows down guessing of credentials: counts 401 answers per client address on the routes that
/// check one (`/v1/session`, `/v1/push`, `/v1/pull`, `/metrics`, a route group's sign-in), and
/// answers 429 `too-many-failures` with Retry-After, before any credential is checked, to an
/// address that has used up its tries (see `FailureBuckets`). Failures are logged as one summary
/// per `log_interval_seconds`: counts and addresses, never a credential.
final class AuthFailureMiddleware: RouterMiddleware, @unchecked Sendable {
    // @unchecked: `buckets` is only touched under `lock`.
    typealias Context = HubRequestContext

    private let lock = NSLock()
    private var buckets: FailureBuckets
    private let settings: HubSettings
    private let now: @Sendable () -> Double
    let summary: LogWindow<Tally>
    /// The route groups' paths whose POST checks a credential (`HubRouteGroup.credentialPaths`).
    private let signIns: Set<String>

    /// Failures and refusals during one log window.
    struct Tally: Sendable {
        var failures = 0
        var refused = 0
        var addresses = AddressTally()
    }

    init(settings: HubSettings, logger: Logger, signIns: Set<String> = [], now: @escaping @Sendable () -> Double) {
        self.settings = settings
        self.signIns = signIns
        self.now = now
        buckets = FailureBuckets(perMinute: settings.configuration.authFailuresPerMinute)
        summary = LogWindow(empty: Tally(), seconds: { settings.configuration.logIntervalSeconds }) { tally, seconds in
            logger.warning("\(tally.failures) wrong or missing credentials from \(tally.addresses.count) addresses in the last \(seconds) s; \(tally.refused) requests answered too-many-failures",
                           metadata: ["failures": "\(tally.failures)", "refused": "\(tally.refused)", "addresses": "\(tally.addresses.count)", "top": "\(tally.addresses.top)"])
        }
    }

    func checksCredential(_ request: Request) -> Bool {
        let path = request.uri.path
        switch path {
        case "/v1/session", "/v1/push", "/v1/pull", "/metrics": return true
        default: return request.method == .post && signIns.contains(path)
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard checksCredential(request) else { return try await next(request, context) }
        let address = PeerAddress.key(context.remoteAddress)
        let perMinute = settings.configuration.authFailuresPerMinute
        let wait: Int? = lock.withLock {
            // A reload that changes the allowance starts the table afresh.
            if buckets.perMinute != perMinute { buckets = FailureBuckets(perMinute: perMinute) }
            return buckets.retryAfter(address, at: now())
        }
        if let wait {
            note(address, refused: true)
            var refusal = HubRefusal(.tooManyRequests, .tooManyFailures,
                                      "too many wrong credentials from this address (more than \(perMinute) a minute); wait \(wait) s, then check the credential (credential_file in site.toml, or the office's file for the dashboard)")
            refusal.retryAfter = wait
            var response = refusal.response
            response.headers[.retryAfter] = String(wait)
            return response
        }
        do {
            let response = try await next(request, context)
            if response.status == .unauthorized { failed(address) }
            return response
        } catch let refusal as HubRefusal where refusal.httpStatus == .unauthorized {
            failed(address)
            throw refusal
        }
    }

    private func failed(_ address: String) {
        lock.withLock { buckets.failed(address, at: now()) }
        note(address, refused: false)
    }

    private func note(_ address: String, refused: Bool) {
        summary.record { tally in
            if refused { tally.refused += 1 } else { tally.failures += 1 }
            tally.addresses.note(address)
        }
    }
}
