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
///
/// With `shared` counts (several hub processes on one PostgreSQL database), each failure is also
/// counted in the database, and the tries left there replace this process's when fewer. Before a
/// credential is checked the database is asked only about an address that failed in this process
/// within the last minute (its bucket has not refilled) or that another process said it refused
/// (`othersRefused`), so a good credential from a clean address costs no extra database trip. An
/// address whose failures all went to other processes, before this one heard of them, gets one try
/// here (then its answer tells it so): at most one try per process a minute beyond the allowance,
/// where each process alone once gave the whole allowance. If the database
/// cannot answer, the process fails closed for the addresses it would ask about (503, the
/// credential unchecked) and keeps counting in its own buckets; the journal's summary says so.
final class AuthFailureMiddleware: RouterMiddleware, @unchecked Sendable {
    // @unchecked: `buckets` is only touched under `lock`.
    typealias Context = HubRequestContext

    /// Counts shared with other processes, and the lane their blocking calls run in.
    struct Shared: Sendable {
        let counts: any SharedAuthFailures
        let lanes: Blocking
    }

    private let lock = NSLock()
    private var buckets: FailureBuckets
    private let settings: HubSettings
    private let now: @Sendable () -> Double
    let summary: LogWindow<Tally>
    /// The route groups' paths whose POST checks a credential (`HubRouteGroup.credentialPaths`).
    private let signIns: Set<String>
    /// The database's counts (nil: this process's buckets alone, the SQLite hub).
    private let shared: Shared?

    /// Failures and refusals during one log window.
    struct Tally: Sendable {
        var failures = 0
        var refused = 0
        var addresses = AddressTally()
        /// Calls to the shared counts that failed, and the last one's error (no address in it).
        var sharedErrors = 0
        var lastSharedError = ""
    }

    init(settings: HubSettings, logger: Logger, signIns: Set<String> = [], shared: Shared? = nil, now: @escaping @Sendable () -> Double) {
        self.settings = settings
        self.signIns = signIns
        self.shared = shared
        self.now = now
        buckets = FailureBuckets(perMinute: settings.configuration.authFailuresPerMinute)
        summary = LogWindow(empty: Tally(), seconds: { settings.configuration.logIntervalSeconds }) { tally, seconds in
            if tally.failures > 0 || tally.refused > 0 {
                logger.warning("\(tally.failures) wrong or missing credentials from \(tally.addresses.count) addresses in the last \(seconds) s; \(tally.refused) requests answered too-many-failures",
                               metadata: ["failures": "\(tally.failures)", "refused": "\(tally.refused)", "addresses": "\(tally.addresses.count)", "top": "\(tally.addresses.top)"])
            }
            if tally.sharedErrors > 0 {
                logger.error("the sign-in limits shared through the database failed \(tally.sharedErrors) times in the last \(seconds) s (addresses that failed recently were answered 503, failures were counted in this process only): \(tally.lastSharedError); check the database",
                             metadata: ["errors": "\(tally.sharedErrors)"])
            }
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
        let (wait, ask): (Int?, Bool) = lock.withLock {
            // A reload that changes the allowance starts the table afresh.
            if buckets.perMinute != perMinute { buckets = FailureBuckets(perMinute: perMinute) }
            let at = now()
            let wait = buckets.retryAfter(address, at: at)
            guard wait == nil, let shared else { return (wait, false) }
            return (nil, buckets.hasFailed(address, at: at) || shared.counts.othersRefused(address))
        }
        if let wait { return refusal(address, wait: wait, perMinute: perMinute) }
        if ask, let shared {
            // An address that failed here lately: other processes may have used up its tries.
            let tries: Double
            do {
                tries = try await shared.lanes.run { try shared.counts.triesLeft(address, perMinute: perMinute) }
            } catch {
                noteShared(error)
                var refusal = HubRefusal(.serviceUnavailable, .internal,
                                         "the hub could not read this address's sign-in limits from its database; try again in a minute")
                refusal.retryAfter = 60
                var response = refusal.response
                response.headers[.retryAfter] = "60"
                return response
            }
            let wait = lock.withLock {
                let at = now()
                buckets.adopt(address, tries: tries, at: at)
                return buckets.retryAfter(address, at: at)
            }
            if let wait { return refusal(address, wait: wait, perMinute: perMinute) }
        }
        do {
            let response = try await next(request, context)
            if response.status == .unauthorized { await failed(address, perMinute: perMinute) }
            return response
        } catch let refusal as HubRefusal where refusal.httpStatus == .unauthorized {
            await failed(address, perMinute: perMinute)
            throw refusal
        }
    }

    /// The 429 answer to an address with no try left, noted in the log window.
    private func refusal(_ address: String, wait: Int, perMinute: Int) -> Response {
        note(address, refused: true)
        var refusal = HubRefusal(.tooManyRequests, .tooManyFailures,
                                  "too many wrong credentials from this address (more than \(perMinute) a minute); wait \(wait) s, then check the credential (credential_file in site.toml, or the office's file for the dashboard)")
        refusal.retryAfter = wait
        var response = refusal.response
        response.headers[.retryAfter] = String(wait)
        return response
    }

    /// Counts a wrong credential here and, with shared counts, in the database, whose tries left
    /// this process then holds to (a failure it cannot write there is counted here only).
    private func failed(_ address: String, perMinute: Int) async {
        lock.withLock { buckets.failed(address, at: now()) }
        note(address, refused: false)
        guard let shared else { return }
        do {
            let tries = try await shared.lanes.run { try shared.counts.failed(address, perMinute: perMinute) }
            lock.withLock {
                if buckets.perMinute == perMinute { buckets.adopt(address, tries: tries, at: now()) }
            }
        } catch {
            noteShared(error)
        }
    }

    private func note(_ address: String, refused: Bool) {
        summary.record { tally in
            if refused { tally.refused += 1 } else { tally.failures += 1 }
            tally.addresses.note(address)
        }
    }

    /// A failed call to the shared counts, for the log window (the error names no address).
    private func noteShared(_ error: any Error) {
        summary.record { tally in
            tally.sharedErrors += 1
            tally.lastSharedError = "\(error)"
        }
    }
}
