import BegawiCore
import BegawiReplica
import BegawiRules
import Hummingbird
import HTTPTypes
import Logging
import NIOCore
import BegawiMetrics

/// The hub's versioned HTTP API (described in `openapi.yaml`, served at `/v1/openapi.yaml`).
struct HubRoutes: Sendable {
    let store: any HubStore
    let settings: HubSettings
    let metrics: HubMetrics
    let clock: any WallClock
    let logger: Logger
    let lanes: Blocking

    func register(on router: Router<HubRequestContext>) {
        router.get("/v1/health") { _, _ in HubAnswer.json(["status": "ok"]) }
        router.get("/v1/openapi.yaml") { _, _ in
            HubAnswer.bytes(Array(OpenAPIDocument.text.utf8), contentType: "application/yaml")
        }
        router.get("/v1/session") { request, _ in try await session(request) }
        router.post("/v1/push") { request, _ in try await push(request) }
        router.get("/v1/pull") { request, context in try await pull(request, peerLeft: PeerLeftHandler.left(of: context.channel)) }
        router.get("/v1/schema") { request, _ in try await schema(request) }
        router.get("/v1/catch-up") { request, _ in try await catchUp(request) }
        router.get("/v1/snapshot") { request, _ in try await snapshot(request) }
        router.get("/metrics") { request, _ in try await metricsPage(request) }
    }

    /// The authenticated site and the replica it names.
    func caller(_ request: Request) async throws -> (SiteRecord, String) {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw HubRefusal(.unauthorized, .unauthorized, "this request needs the site's credential (Authorization: Bearer …); see credential_file in site.toml")
        }
        let token = String(header.dropFirst("Bearer ".count))
        guard let site = try await lanes.run({ [store] in try store.authenticate(token: token) }) else {
            throw HubRefusal(.unauthorized, .unauthorized, "the credential is unknown, wrong or revoked; ask the office for a new one (begawi hub rotate-credential --id SITE)")
        }
        guard let replica = request.headers[.begawiReplica], UUIDText.parse(replica) != nil else {
            throw HubRefusal(.badRequest, .badRequest, "the \(WireHeader.replica) header must carry the site replica's id")
        }
        do {
            _ = try admit(request, site: site.id)
        } catch let refusal as HubRefusal where refusal.code == .tooOld {
            // The office must see who to upgrade; a failure to record must not change the answer.
            let versions = try? HubRoutes.versions(request)
            try? await lanes.run { [store] in
                try store.noteRefused(site: site.id, daemonVersion: versions?.daemon, schemaVersion: versions?.schema ?? 1)
            }
            throw refusal
        }
        return (site, replica)
    }

    func session(_ request: Request) async throws -> Response {
        let configuration = settings.configuration
        let (site, replica) = try await caller(request)
        let versions = try HubRoutes.versions(request)
        let report = SiteReport(pending: try HubRoutes.number(request, .begawiPending, upTo: Int64.max).map { Int(clamping: $0) },
                                agent: request.headers[.userAgent],
                                siteTime: try HubRoutes.number(request, .begawiSiteTime, upTo: Int64(HybridTimestamp.millisecondMask)),
                                daemonVersion: versions.daemon, schemaVersion: versions.schema ?? 1)
        let session = try await lanes.run { [store, configuration] in
            var session = try store.session(site: site, replica: replica, configuration: configuration)
            session.protocolVersion = Wire.protocolVersion
            session.unsettled = try store.unsettledRefusals(site: site, replica: replica, schemaVersion: versions.schema)
            // Recorded once the replica is known to be the site's; a failure to record must not stop its sync.
            try? store.noteSession(site: site.id, replica: replica, report: report)
            return session
        }
        return HubAnswer.json(session)
    }

    /// A header holding a whole number from 0 to `upTo`, or nil when absent; anything else is refused
    /// (sites send these figures; a hostile one must get a reason, never a crash or a wrapped number).
    static func number(_ request: Request, _ name: HTTPField.Name, upTo limit: Int64) throws -> Int64? {
        guard let text = request.headers[name] else { return nil }
        guard let value = Int64(text), (0...limit).contains(value) else {
            throw HubRefusal(.badRequest, .badRequest, "the \(name) header must be a whole number from 0 to \(limit)")
        }
        return value
    }

    /// The schema version the site's replica holds, or nil when the site does not say (the oldest published).
    static func schemaVersion(_ request: Request) throws -> Int? {
        try number(request, .begawiSchemaVersion, upTo: Int64(SchemaDocument.maximumVersion)).map { Int(clamping: $0) }
    }

    /// The rows a pull asks for: absent means a whole page; more than a page is a page.
    static func maxRows(_ text: String?, page: Int) throws -> Int {
        guard let text else { return page }
        guard let asked = Int(text), asked > 0 else {
            throw HubRefusal(.badRequest, .badRequest, "max_rows must be a positive whole number (the hub sends at most \(page) rows a page)")
        }
        return min(asked, page)
    }

    func push(_ request: Request) async throws -> Response {
        let configuration = settings.configuration
        let (site, replica) = try await caller(request)
        let schemaVersion = try HubRoutes.schemaVersion(request)
        let limit = configuration.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            // Refused before a byte of the body is read.
            throw HubRefusal(.contentTooLarge, .tooLarge, "the request body has \(length) bytes, more than the hub's \(limit); send smaller batches")
        }
        var request = request
        let buffer = try await request.collectBody(upTo: limit)
        var body = Array(buffer.readableBytesView)
        metrics.received(site: site.id, bytes: body.count)
        switch request.headers[.contentEncoding]?.lowercased() {
        case nil, "identity": break
        case "gzip": body = try GzipDecoder.decode(body, limit: configuration.maxBatchBytes)
        case let other?:
            throw HubRefusal(.unsupportedMediaType, .badEncoding, "content encoding '\(other)' is not supported; send gzip or identity")
        }
        let batch = try BatchCodec.decode(body, limits: BatchCodec.Limits(maxUncompressedBytes: configuration.maxBatchBytes))
        let now = clock.nowMilliseconds()
        if let latest = batch.latestClock, Int64(clamping: latest.milliseconds) > Int64(clamping: now) + configuration.maxClockSkewMilliseconds {
            let ahead = (Int64(clamping: latest.milliseconds) - Int64(clamping: now)) / 1000
            logger.warning("refused a batch stamped in the future", metadata: ["site.id": "\(site.id)", "seconds.ahead": "\(ahead)"])
            var refusal = HubRefusal(.unprocessableContent, .clockAhead,
                                     "the batch carries stamps \(ahead) s in the hub's future (the limit is \(configuration.maxClockSkewMilliseconds / 1000) s); correct the site's clock offset and re-stamp unsent changes")
            refusal.hubTime = now
            throw refusal
        }
        do {
            let outcome = try await lanes.run { [store] in try store.push(site: site, replica: replica, batch: batch, schemaVersion: schemaVersion) }
            if !batch.rows.isEmpty {
                logger.info("push applied", metadata: ["site.id": "\(site.id)", "batch.rows": "\(batch.rows.count)",
                                                       "rows.changed": "\(outcome.rowsChanged)", "conflicts": "\(outcome.conflicts)",
                                                       "rows.refused": "\(outcome.refused.count)"])
            }
            if !outcome.refused.isEmpty {
                // Reasons only: keys and values stay in the audit trail (`SQLiteHubStore.trace(key:)`).
                logger.notice("rows refused by the access rules", metadata: [
                    "site.id": "\(site.id)", "rows.refused": "\(outcome.refused.count)",
                    "reasons": "\(Set(outcome.refused.map(\.reason.code)).sorted().joined(separator: ","))"])
            }
            return HubAnswer.json(outcome)
        } catch let error as BegawiError where error.code == .outOfOrder {
            let cursor = try await lanes.run { [store] in try store.session(site: site, replica: replica, configuration: configuration).pushCursor }
            var refusal = HubRefusal(.conflict, .outOfOrder, error.message)
            refusal.cursor = cursor
            throw refusal
        }
    }

    func pull(_ request: Request, peerLeft: EventLoopFuture<Void>) async throws -> Response {
        let configuration = settings.configuration
        let (site, replica) = try await caller(request)
        let query = request.uri.queryParameters
        guard let epoch = query.get("epoch"), let base = query.get("base", as: UInt64.self),
              let position = query.get("position", as: UInt64.self), base <= position else {
            throw HubRefusal(.badRequest, .badRequest, "pull needs epoch, base and position (base ≤ position) in the query")
        }
        guard position <= ExchangeCursor.maxSeq else {
            throw HubRefusal(.badRequest, .badRequest, "position must be at most \(ExchangeCursor.maxSeq); start a new session and pull from the cursor the hub gives")
        }
        guard epoch == store.hubReplicaID else {
            var refusal = HubRefusal(.conflict, .epochChanged, "the hub was restored from a backup (epoch \(store.hubReplicaID)); start a new session to re-sync")
            refusal.hubReplicaID = store.hubReplicaID
            throw refusal
        }
        let maxRows = try HubRoutes.maxRows(query.get("max_rows"), page: configuration.pageRows)
        let schemaVersion = try HubRoutes.schemaVersion(request), fresh = query.get("fresh") == "1"
        let wait = min(try HubRoutes.waitSeconds(query.get("wait")), configuration.maxWaitSeconds)
        let cursor = ExchangeCursor(baseSeq: base, seq: position)
        let (batch, page) = try await held(for: .seconds(wait), limit: configuration.maxConnections, peerLeft: peerLeft) {
            try await lanes.run { [store] in
                try store.pull(site: site, replica: replica, after: cursor, maxRows: maxRows, schemaVersion: schemaVersion, fresh: fresh)
            }
        }
        if wait > 0 { try? await lanes.run { [store] in try store.noteContact(site: site.id) } }
        metrics.sent(site: site.id, bytes: page.count, rows: batch.rows.count, throughSeq: batch.throughSeq)
        var headers = HTTPFields()
        headers[.begawiEpoch] = store.hubReplicaID
        return HubAnswer.bytes(page, contentType: Wire.batchMediaType, headers: headers)
    }

    /// A published schema version's file, as published, for a site that migrates to it; without a
    /// version, the current one (for `site init`).
    func schema(_ request: Request) async throws -> Response {
        _ = try await caller(request)
        let asked = request.uri.queryParameters.get("version")
        let version = asked == nil ? store.currentSchemaVersion : asked.flatMap { Int($0) }
        guard let version, (1...SchemaDocument.maximumVersion).contains(version) else {
            if asked == nil {
                throw HubRefusal(.notFound, .badRequest, "this hub has no published schema version; give the site the hub's schema file (schema in site.toml)")
            }
            throw HubRefusal(.badRequest, .badRequest, "schema needs version in the query, a whole number from 1 to \(SchemaDocument.maximumVersion)")
        }
        guard let published = store.publishedSchema(version: version) else {
            throw HubRefusal(.notFound, .badRequest, "this hub never published schema version \(version); start a new session for the current one")
        }
        return HubAnswer.bytes(Array(published.document.utf8), contentType: "application/json")
    }

    /// After a site migrated: a page of rows holding values of what it did not have, sent whole.
    func catchUp(_ request: Request) async throws -> Response {
        let configuration = settings.configuration
        let (site, replica) = try await caller(request)
        let query = request.uri.queryParameters
        guard let from = query.get("from", as: Int.self), (1...SchemaDocument.maximumVersion).contains(from),
              let after = query.get("after", as: UInt64.self), after <= ExchangeCursor.maxSeq else {
            throw HubRefusal(.badRequest, .badRequest, "catch-up needs from (the schema version migrated from, 1 to \(SchemaDocument.maximumVersion)) and after (0 to \(ExchangeCursor.maxSeq)) in the query")
        }
        let maxRows = try HubRoutes.maxRows(query.get("max_rows"), page: configuration.pageRows)
        let schemaVersion = try HubRoutes.schemaVersion(request)
        let (batch, page, next) = try await lanes.run { [store] in
            try store.catchUp(site: site, replica: replica, fromVersion: from, schemaVersion: schemaVersion, afterSeq: after, maxRows: maxRows)
        }
        metrics.sent(site: site.id, bytes: page.count, rows: batch.rows.count, throughSeq: nil)
        var headers = HTTPFields()
        if let next { headers[.begawiCatchUpNext] = String(next) }
        return HubAnswer.bytes(page, contentType: Wire.batchMediaType, headers: headers)
    }

    /// Prometheus' page, for the metrics token only: a site's credential (the office's too) can
    /// pull personal data, so it never goes into a monitoring system's configuration.
    func metricsPage(_ request: Request) async throws -> Response {
        guard settings.hasMetricsToken else {
            throw HubRefusal(.notFound, .metricsOff, "/metrics is off: set metrics_token_file in hub.toml to a file holding a token, and give Prometheus that token")
        }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw HubRefusal(.unauthorized, .unauthorized, "/metrics needs the metrics token (Authorization: Bearer …); see metrics_token_file in hub.toml")
        }
        guard settings.isMetricsToken(String(header.dropFirst("Bearer ".count))) else {
            throw HubRefusal(.unauthorized, .unauthorized, "this is not the metrics token named by metrics_token_file in hub.toml")
        }
        let (health, head, waiting) = try await lanes.run { [store] in (try store.health(), try store.headSeq(), try store.feedWaiting()) }
        let text = metrics.page(health: health, head: head, waiting: waiting, now: Double(clock.nowMilliseconds()) / 1000)
        return HubAnswer.bytes(Array(text.utf8), contentType: MetricsText.contentType)
    }
}
