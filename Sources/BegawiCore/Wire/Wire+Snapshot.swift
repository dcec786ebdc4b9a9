/// The exchange's terms for a new replica's first pull as a snapshot (`GET /v1/snapshot`).
extension Wire {
    /// The media type of a snapshot part: a SQLite database file (sent gzip-compressed).
    public static let snapshotMediaType = "application/vnd.sqlite3"
}

extension WireHeader {
    /// On a snapshot request: the last key of the table the site holds already (absent: from the
    /// first). A header rather than a query parameter, so that no row key sits in an access log.
    public static let snapshotAfter = "Begawi-Snapshot-After"
}

extension HubRefusal.Code {
    /// A snapshot the hub does not give this site (its schema version is not the current one): the
    /// site pulls pages instead, as it does from a hub without snapshots (which answers 404 too).
    public static let snapshotUnavailable = HubRefusal.Code("snapshot-unavailable")
}
