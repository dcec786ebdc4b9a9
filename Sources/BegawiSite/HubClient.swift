public import BegawiCore
import Foundation

/// The hub's answers to a sync round's requests, in the protocol's terms.
public struct HubClient: Sendable {
    let transport: any HubTransport
    let replicaID: String
    /// What every request says of this daemon: its release and the protocol it speaks.
    let daemonVersion: DaemonVersion
    let protocolVersion: Int
    /// The schema version the replica holds, said on every request so that the hub sends only the
    /// tables and columns it has; nil says nothing (the hub takes its oldest version, as from older daemons).
    public var schemaVersion: Int?
    /// Whether pulls ask for a fresh copy (a re-baseline): the rows this site sent itself come back too.
    public var freshCopy = false

    /// Makes a client for one site replica; the versions are this build's unless a test names others.
    public init(transport: any HubTransport, replicaID: String, daemonVersion: DaemonVersion = .current,
                protocolVersion: Int = Wire.protocolVersion) {
        self.transport = transport
        self.replicaID = replicaID
        self.daemonVersion = daemonVersion
        self.protocolVersion = protocolVersion
    }

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }()

    /// Decodes a refusal's body, whose keys are as on the wire.
    static let refusalDecoder = JSONDecoder()

    var headers: [(String, String)] {
        [(WireHeader.replica, replicaID), (WireHeader.protocolVersion, String(protocolVersion)),
         (WireHeader.daemonVersion, daemonVersion.description)]
            + (schemaVersion.map { [(WireHeader.schemaVersion, String($0))] } ?? [])
    }

    /// The offset (ms to add to local time to get the hub's) from one answer, assuming symmetric delays.
    static func offset(_ response: HubResponse) -> Int64? {
        // A time outside the clock's 48 bits is not a time: no offset, rather than one that overflows.
        guard let text = response.headers[WireHeader.hubTime.lowercased()], let hub = Int64(text),
              (0...Int64(HybridTimestamp.millisecondMask)).contains(hub) else { return nil }
        let sent = Int64(clamping: response.sentAt), received = Int64(clamping: response.receivedAt)
        let midpoint = sent / 2 + received / 2 + (sent % 2 + received % 2) / 2
        return hub - midpoint
    }

    /// Starts a round: who the hub says we are, its epoch, and its cursor for this replica.
    /// `extraHeaders` carry what the site reports about itself (`WireHeader.pending`, `WireHeader.siteTime`).
    public func session(extraHeaders: [(String, String)] = []) async throws -> (HubSession, offset: Int64?, roundTrip: UInt64) {
        let response = try await transport.send(HubRequest(method: "GET", path: "/v1/session", headers: headers + extraHeaders))
        try HubClient.check(response)
        let session: HubSession
        do {
            session = try HubClient.decoder.decode(HubSession.self, from: Data(response.body))
        } catch {
            throw BegawiError(.network, "the hub's session answer could not be read; check that hub_url names a Begawi hub", cause: "\(error)")
        }
        // A hub names its protocol from version 2 on; one that names none speaks version 1.
        let hubProtocol = session.protocolVersion ?? 1
        guard hubProtocol >= Wire.oldestProtocolServed else {
            throw BegawiError(.refused, "the hub speaks protocol \(hubProtocol), older than this site's daemon speaks (\(Wire.oldestProtocolServed)–\(Wire.protocolVersion)); ask the office to upgrade the begawi package at the hub to \(DaemonVersion.current) or later; nothing was sent")
        }
        return (session, HubClient.offset(response), response.receivedAt &- response.sentAt)
    }

    /// Pushes one encoded batch; the answer comes only after the hub committed it.
    public func push(_ bytes: [UInt8]) async throws -> (PushOutcome, offset: Int64?) {
        let response = try await transport.send(HubRequest(
            method: "POST", path: "/v1/push", headers: headers + [("Content-Type", Wire.batchMediaType)], body: bytes))
        try HubClient.check(response)
        let outcome: PushOutcome
        do {
            outcome = try HubClient.decoder.decode(PushOutcome.self, from: Data(response.body))
        } catch {
            throw BegawiError(.network, "the hub's push answer could not be read", cause: "\(error)")
        }
        return (try HubClient.checked(outcome), HubClient.offset(response))
    }

    /// The push answer, when its counts and cursor are in range: counts are added up in the site's
    /// figures, where a negative or absurd one must not wrap or trap.
    static func checked(_ outcome: PushOutcome) throws -> PushOutcome {
        guard (0...HubClient.maxCount).contains(outcome.rowsChanged), (0...HubClient.maxCount).contains(outcome.conflicts),
              outcome.cursor.seq <= ExchangeCursor.maxSeq, outcome.cursor.baseSeq <= outcome.cursor.seq else {
            throw BegawiError(.network, "the hub's push answer holds counts or a cursor out of range; check that hub_url names a Begawi hub of this version")
        }
        return outcome
    }

    /// The largest count a push answer may give (far more rows than a batch holds).
    static let maxCount = 1 << 32

    /// Fetches the next page of the hub's feed after `cursor`, encoded. With a `wait` (seconds), a
    /// site at the head asks the hub to hold the pull until a change arrives (an older hub answers at once).
    public func pull(hubReplicaID: String, after cursor: ExchangeCursor, maxRows: Int, wait: Int = 0) async throws -> [UInt8] {
        let path = "/v1/pull?epoch=\(hubReplicaID)&base=\(cursor.baseSeq)&position=\(cursor.seq)&max_rows=\(maxRows)"
            + (freshCopy ? "&fresh=1" : "") + (wait > 0 ? "&wait=\(wait)" : "")
        var request = HubRequest(method: "GET", path: path, headers: headers)
        request.holdSeconds = wait
        let response = try await transport.send(request)
        try HubClient.check(response)
        return response.body
    }

    /// A schema version's file as the hub published it, for the site to check and migrate to; without
    /// a version, the current one.
    public func schema(version: Int?) async throws -> [UInt8] {
        let path = version.map { "/v1/schema?version=\($0)" } ?? "/v1/schema"
        let response = try await transport.send(HubRequest(method: "GET", path: path, headers: headers))
        try HubClient.check(response)
        return response.body
    }

    /// After a migration from `fromVersion`: a page of rows holding values of what later versions added,
    /// encoded, and the `after` of the next page (nil after the last).
    public func catchUp(fromVersion: Int, after: UInt64, maxRows: Int) async throws -> (bytes: [UInt8], next: UInt64?) {
        let path = "/v1/catch-up?from=\(fromVersion)&after=\(after)&max_rows=\(maxRows)"
        let response = try await transport.send(HubRequest(method: "GET", path: path, headers: headers))
        try HubClient.check(response)
        guard let text = response.headers[WireHeader.catchUpNext.lowercased()] else { return (response.body, nil) }
        guard let next = UInt64(text), next > after, next <= ExchangeCursor.maxSeq else {
            throw BegawiError(.network, "the hub's catch-up page names a next position that does not follow \(after); check that hub_url names a Begawi hub of this version")
        }
        return (response.body, next)
    }

    /// Throws a `HubRefusal` for any non-2xx answer.
    static func check(_ response: HubResponse) throws {
        guard !(200..<300).contains(response.status) else { return }
        let body = try? refusalDecoder.decode(HubRefusal.Body.self, from: Data(response.body))
        throw HubRefusal(status: response.status, body: body, offset: offset(response))
    }
}
