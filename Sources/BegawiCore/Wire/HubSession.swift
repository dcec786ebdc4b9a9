// The hub's JSON answers, shared by the hub that encodes them and the site that decodes them
// (snake_case keys on the wire; docs/openapi.yaml describes them).

/// What the hub tells a site at the start of a sync round.
public struct HubSession: Sendable, Equatable, Codable {
    /// The site, as authenticated.
    public var site: String
    /// The hub's replica id (the docs' epoch), new after a restore from backup.
    public var hubReplicaID: String
    /// The hub replicas this one descends from, with how much of their feed it shares.
    public var lineage: [LineageLink]
    /// The hub's cursor for this site's replica: everything up to it is stored at the hub.
    public var pushCursor: ExchangeCursor
    /// Stamps further than this in the hub's future are refused.
    public var maxClockSkewMilliseconds: Int64
    /// The largest request body accepted.
    public var maxBodyBytes: Int
    /// Rows per page of the change feed.
    public var pageRows: Int
    /// The protocol version the hub speaks (`Wire.protocolVersion`); nil from a hub before versions (1).
    public var protocolVersion: Int?
    /// The hub's current schema version (nil from a hub that records none): a site holding an older
    /// one fetches it (`GET /v1/schema`) and migrates its replica.
    public var schemaVersion: Int?
    /// `SchemaDocument.digest` of that version, which the fetched document must match.
    public var schemaDigest: String?
    /// The hub's wall time (ms since the Unix epoch) `retention_days` ago: the site may purge its own
    /// tombstones older than it whose delete the hub holds (nil from a hub before issue 15).
    public var purgeBefore: UInt64?
    /// What this replica's last push refused, as that push's answer said it (nil when it refused
    /// nothing, and from a hub before this field): a site whose answer was lost settles it now.
    public var unsettled: PushOutcome?

    /// Makes a session answer.
    public init(site: String, hubReplicaID: String, lineage: [LineageLink], pushCursor: ExchangeCursor,
                maxClockSkewMilliseconds: Int64, maxBodyBytes: Int, pageRows: Int, schemaVersion: Int? = nil, schemaDigest: String? = nil) {
        self.site = site
        self.hubReplicaID = hubReplicaID
        self.lineage = lineage
        self.pushCursor = pushCursor
        self.maxClockSkewMilliseconds = maxClockSkewMilliseconds
        self.maxBodyBytes = maxBodyBytes
        self.pageRows = pageRows
        self.schemaVersion = schemaVersion
        self.schemaDigest = schemaDigest
    }

    enum CodingKeys: String, CodingKey {
        case site, lineage, pushCursor, maxClockSkewMilliseconds, maxBodyBytes, pageRows
        case protocolVersion, schemaVersion, schemaDigest, purgeBefore, unsettled
        case hubReplicaID = "epoch"
    }
}
