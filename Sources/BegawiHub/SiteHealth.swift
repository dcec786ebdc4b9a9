public import BegawiCore

/// What a site says about itself when it opens a session (request headers; all optional).
public struct SiteReport: Sendable, Equatable {
    /// Local changes the site has not had acknowledged yet.
    public var pending: Int?
    /// The site daemon's name and version (`User-Agent`, for example "begawi/0.5.0").
    public var agent: String?
    /// The site's wall clock when it sent the request, in ms since the Unix epoch.
    public var siteTime: Int64?
    /// The site daemon's release (its version header, or else its `User-Agent`).
    public var daemonVersion: DaemonVersion?
    /// The schema version the site's replica holds.
    public var schemaVersion: Int?

    /// Makes a report.
    public init(pending: Int? = nil, agent: String? = nil, siteTime: Int64? = nil, daemonVersion: DaemonVersion? = nil, schemaVersion: Int? = nil) {
        self.pending = pending
        self.agent = agent
        self.siteTime = siteTime
        self.daemonVersion = daemonVersion
        self.schemaVersion = schemaVersion
    }
}

/// A site's health as the hub records it: last contact, what it last reported, and totals of what
/// its pushes did. Kept in the hub's database, so it survives restarts and backups.
public struct SiteHealth: Sendable, Equatable, Codable {
    /// The site's id and kind.
    public var site: String
    public var kind: String
    /// Whether its credential is revoked.
    public var revoked: Bool
    /// When it last opened a session or pushed, in ms since the Unix epoch; nil before first contact.
    public var lastContact: Int64?
    /// Local changes it had not had acknowledged when it last opened a session.
    public var pending: Int?
    /// Its daemon's `User-Agent`.
    public var agent: String?
    /// Its daemon's release, and the schema version its replica holds, as of its last session.
    public var daemonVersion: String?
    public var schemaVersion: Int?
    /// The hub's clock minus the site's, in ms, as of the last session (the request's one-way delay included).
    public var clockOffsetMilliseconds: Int64?
    /// Sessions, pushes, rows received, rows refused and conflicts recorded while merging its rows.
    public var sessions: Int
    public var pushes: Int
    public var rowsReceived: Int
    public var rowsRefused: Int
    public var conflicts: Int

    /// Makes a site's health (as a store reads it back).
    public init(site: String, kind: String, revoked: Bool, lastContact: Int64?, pending: Int?, agent: String?,
                daemonVersion: String?, schemaVersion: Int?, clockOffsetMilliseconds: Int64?,
                sessions: Int, pushes: Int, rowsReceived: Int, rowsRefused: Int, conflicts: Int) {
        self.site = site
        self.kind = kind
        self.revoked = revoked
        self.lastContact = lastContact
        self.pending = pending
        self.agent = agent
        self.daemonVersion = daemonVersion
        self.schemaVersion = schemaVersion
        self.clockOffsetMilliseconds = clockOffsetMilliseconds
        self.sessions = sessions
        self.pushes = pushes
        self.rowsReceived = rowsReceived
        self.rowsRefused = rowsRefused
        self.conflicts = conflicts
    }
}
