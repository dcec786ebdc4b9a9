public import BegawiCore
import BegawiHub
import BegawiRules
public import BegawiOffice
import Foundation
import NIOCore
import PostgresNIO

/// The office's reads and its one write on PostgreSQL (`OfficeStore`): the enrollment report from
/// the synced tables, the conflict ledger with what the office did, and re-apply, which writes a
/// losing value back as the hub's own change. The SQLite store's behaviour is the reference: the
/// same statement for the report (`EnrollmentReport.querySQL`), the same refusals for re-apply
/// (`ConflictReview.block`, `ReapplyRefusal`), the same tables (`_hub_reapplied`, `_hub_sessions`).
/// The rules they follow (the statuses' order, the columns that cannot be re-applied) are those of
/// the published current version, read at each call: `begawi hub report` opens the store without
/// rules, and a serving process runs only with the published ones (`requireRules`).
extension PostgresHubStore: OfficeStore {
    /// The office's tables, made at open when missing (the install's transaction), and the hub's clock.
    static let officeTables: [PostgresQuery] = [
        #"CREATE TABLE IF NOT EXISTS _hub_reapplied (conflict bigint PRIMARY KEY, at bigint NOT NULL, "by" text NOT NULL)"#,
        PostgresOfficeSessions.table,
        PostgresHubClock.install,
    ]

    /// Enrollments by partner × program × status for the filter's period, with totals, from the
    /// synced tables (the office's readable copy); the filter's values are bound as parameters.
    public func enrollmentReport(_ filter: ReportFilter) throws -> EnrollmentReport {
        let filter = try filter.validate()
        try refresh()
        guard let document = currentDocument else { throw PostgresHubStore.nothingPublished }
        let schema = document.schema
        try EnrollmentReport.requireReportTables(schema)
        var bindings = PostgresBindings()
        for value in [filter.from, filter.to, filter.partner, filter.program, filter.status] {
            if let value { bindings.append(value) } else { bindings.appendNull() }
        }
        let query = PostgresQuery(unsafeSQL: EnrollmentReport.querySQL(schema) { "$\($0)" }, binds: bindings)
        let groups = try pool.withLink { link in
            try link.query(query).map { row in
                let (partner, partnerName, program, title, status, n) = try PostgresHubStore.decode("enrollments") {
                    try row.decode((String?, String?, String?, String?, String?, Int64).self)
                }
                return EnrollmentReport.Group(partner: partner, partnerName: partnerName, program: program, title: title, status: status,
                                              count: Int(clamping: n))
            }
        }
        return EnrollmentReport(filter: filter, policy: document.policy, groups: groups)
    }

    /// The conflict ledger, newest first (at most `limit` entries), with when the office re-applied
    /// each, or why it cannot.
    public func conflictReviews(limit: Int = 500) throws -> [ConflictReview] {
        try refresh()
        guard let document = currentDocument else { throw PostgresHubStore.nothingPublished }
        let (entries, done) = try pool.withLink { link in
            let entries = try link.query(PostgresQuery(unsafeSQL: PostgresHubStore.ledgerSelect + " ORDER BY id DESC LIMIT $1",
                                                       binds: { var b = PostgresBindings(); b.append(Int64(max(0, limit))); return b }()))
                .map(PostgresHubStore.ledgerEntry)
            var done: [Int64: Int64] = [:]
            for row in try link.query("SELECT conflict, at FROM _hub_reapplied WHERE conflict = ANY(\(entries.map(\.id)))") {
                let (conflict, at) = try PostgresHubStore.decode("_hub_reapplied") { try row.decode((Int64, Int64).self) }
                done[conflict] = at
            }
            return (entries, done)
        }
        return entries.map { ConflictReview(entry: $0, reappliedAt: done[$0.id], blocked: ConflictReview.block($0, schema: document.schema, policy: document.policy)) }
    }

    /// Writes a conflict's losing value back as the hub's own change: in one transaction, the
    /// re-apply recorded (once: a second is refused), the row locked, its column given the losing
    /// value with a stamp of the hub's clock later than every stamp of the row (`PostgresHubClock`),
    /// the row's merge state and readable copy written as a push writes them (waiting for the
    /// feed), and the audit line under the rules; after the commit the feed gives the row its new
    /// position, so every site that may see it gets the value on its next pull. `by` names who
    /// asked (the office's site id). Refused, with the SQLite store's words, when the entry is
    /// unknown, blocked (`ConflictReview.block`), done before, or its row is no longer live.
    public func reapply(conflict id: Int64, by: String) throws -> ConflictLedgerEntry {
        var attempt = 0
        while true {
            attempt += 1
            try refresh()
            guard let document = currentDocument else { throw PostgresHubStore.nothingPublished }
            do {
                let entry = try pool.withLink { link in try link.transaction { link in try reapplyTransaction(id, by: by, document: document, on: link) } }
                _ = try? pool.withLink { link in try RowFeed.publishAll(on: link) }
                feed.committed()
                return entry
            } catch is NewerSchema where attempt < PostgresHubStore.pushAttempts {
                continue
            } catch is NewerSchema {
                throw PostgresHubStore.schemaMoving
            }
        }
    }

    /// The re-apply's transaction (see `reapply(conflict:by:)`).
    func reapplyTransaction(_ id: Int64, by: String, document: SchemaDocument, on link: PostgresLink) throws -> ConflictLedgerEntry {
        let schema = document.schema
        var one = PostgresBindings()
        one.append(id)
        guard let row = try link.query(PostgresQuery(unsafeSQL: PostgresHubStore.ledgerSelect + " WHERE id = $1", binds: one)).first else {
            throw ReapplyRefusal.unknown(id)
        }
        let c = try PostgresHubStore.ledgerEntry(row)
        if let why = ConflictReview.block(c, schema: schema, policy: document.policy) { throw ReapplyRefusal.blocked(id, why) }
        guard let spec = schema.table(named: c.table), let column = spec.columns.firstIndex(where: { $0.name == c.column }) else {
            throw ReapplyRefusal.blocked(id, "kolom ini tidak lagi ada")
        }
        let now = Int64(clamping: clock.nowMilliseconds())
        // Recorded first: a second re-apply of the entry, in this process or another, waits for this
        // one's commit on the key and is then refused.
        guard try link.query(#"INSERT INTO _hub_reapplied (conflict, at, "by") VALUES (\#(id), \#(now), \#(by)) ON CONFLICT DO NOTHING RETURNING conflict"#).first != nil else {
            throw ReapplyRefusal.done(id)
        }
        let key = RowKey(table: c.table, key: c.key)
        guard let locked = try link.query("SELECT state, register_seq FROM _begawi_rows WHERE tbl = \(c.table) AND key = \(c.key) FOR UPDATE").first else {
            throw ReapplyRefusal.gone(id)
        }
        let (bytes, registerSeq) = try PostgresHubStore.decode("_begawi_rows") { try locked.decode((ByteBuffer?, [Int64]).self) }
        guard let bytes else { throw ReapplyRefusal.gone(id) }
        var state = try MergeState.decode(Array(bytes.readableBytesView), columnCount: spec.columns.count)
        guard state.isLive else { throw ReapplyRefusal.gone(id) }
        // Later than every write the row holds, whatever the clock saw: the hub's value wins at every site.
        let newest = ([state.deleted] + state.columns).compactMap { $0?.stamp.clock }.max() ?? HybridTimestamp(rawValue: 0)
        let stamp = try PostgresHubClock.tick(wallMilliseconds: clock.nowMilliseconds(), after: newest,
                                              counterAbove: state.vector[PostgresHubClock.site], on: link)
        state.columns[column] = Register(value: c.loserValue, stamp: Stamp(clock: stamp.clock, site: PostgresHubClock.site, counter: stamp.counter))
        state.vector.raise(PostgresHubClock.site, to: stamp.counter)
        var seqs = registerSeq
        if seqs.count < spec.columns.count + 1 { seqs += Array(repeating: 0, count: spec.columns.count + 1 - seqs.count) }
        // 0: changed, not yet published; the feed gives the register the row's new position.
        seqs[column + 1] = 0
        // No site holds the hub's write: every site that may see the row gets it.
        var rows = MergeRows(keys: [key])
        rows.entries[key] = MergeRows.Entry(state: state, registerSeq: seqs, origin: nil, changed: true)
        try rows.write(schema: schema, on: link)
        if document.policy != nil {
            try PostgresHubStore.writeAudit([(c.table, c.key, "reapplied", "conflict \(id)")], site: by, at: now, on: link)
        }
        return c
    }

    /// Where the dashboard's sessions live on PostgreSQL: `_hub_sessions`, so that every hub process
    /// on the database serves a signed-in office.
    public func officeSessions() throws -> any OfficeSessionStore { PostgresOfficeSessions(pool: pool) }

    /// The refusal of the office's reads before a first publish.
    static let nothingPublished = BegawiError(.configuration, "the hub's PostgreSQL database has no published schema yet: publish the schema file first (begawi hub schema publish FILE)")
}
