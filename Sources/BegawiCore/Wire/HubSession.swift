// The hub's JSON answers, shared by the hub that encodes them and the site that decodes them
// (snake_case keys on the wire; docs/openapi.yaml describes them).

/// What the hub tells a site at the start of a sync round.
public struct HubSession: Sendable, Equatable, Codable {
    /// The site, as authenticated.
    public var site: String
    /// The hub database's epoch: its replica id, new after a restore from backup.
    public var epoch: String
    /// The epochs this one descends from, with how much of their feed it shares.
    public var lineage: [EpochLink]
    /// The hub's cursor for this site's replica: everything up to it is stored at the hub.
    public var pushCursor: ExchangeCursor
    /// Stamps further than this in the hub's future are refused.
    public var maxClockSkewMilliseconds: Int64
    /// The largest request body accepted.
    public var maxBodyBytes: Int
    /// Rows per page of the change feed.
    public var pageRows: Int

    /// Makes a session answer.
    public init(site: String, epoch: String, lineage: [EpochLink], pushCursor: ExchangeCursor,
                maxClockSkewMilliseconds: Int64, maxBodyBytes: Int, pageRows: Int) {
        self.site = site
        self.epoch = epoch
        self.lineage = lineage
        self.pushCursor = pushCursor
        self.maxClockSkewMilliseconds = maxClockSkewMilliseconds
        self.maxBodyBytes = maxBodyBytes
        self.pageRows = pageRows
    }
}
