import BegawiCore
import BegawiReplica
import BegawiRules
import Foundation

/// Keeps `_hub_visibility` (which site may see which row of a table that is not a catalogue) and
/// records each change in `_hub_feed`, numbered in the replica's change sequence, so that a site's
/// next pull sends newly visible rows whole and removes rows it may no longer see.
///
/// Set-based: who may see a batch's rows is read with two statements per table and chunk of keys
/// (`HubVisibility+Receivers`), and the differences are written a chunk of rows per statement.
struct HubVisibility {
    let policy: AccessPolicy
    let context: ReplicaContext
    let now: Int64

    /// Recomputes who may see each row and records the differences. A site that holds a row whole
    /// already (`holding`: the pushing site and the rows it just sent whole) gets no grant for it.
    /// `seqs`: the change numbers of rows this transaction merged, as the merge gave them; a grant of
    /// another row reads its number from `_begawi_rows`. Returns how many rows each site was newly granted.
    @discardableResult
    func update(_ rows: Set<RowKey>, holding: (site: String, rows: Set<RowKey>)? = nil, seqs: [RowKey: UInt64] = [:]) throws -> [String: Int] {
        var granted: [String: Int] = [:]
        var grants: [SQLValue] = []
        var known: [SQLValue] = []
        var events: [SQLValue] = []
        try differences(rows) { address, grant, revoke in
            let seq = seqs[address].flatMap { Int64(exactly: $0) }
            for site in grant {
                if let seq {
                    known += [.text(site), .text(address.table), .text(address.key), .integer(now), .integer(seq)]
                } else {
                    grants += [.text(site), .text(address.table), .text(address.key), .integer(now), .text(address.table), .text(address.key)]
                }
                granted[site, default: 0] += 1
                if let holding, holding.site == site, holding.rows.contains(address) { continue }
                events += eventValues(.grant, site: site, address)
            }
            for site in revoke {
                try context.execute("DELETE FROM _hub_visibility WHERE site = ? AND tbl = ? AND key = ?",
                                    [.text(site), .text(address.table), .text(address.key)])
                events += eventValues(.revoke, site: site, address)
            }
        }
        try context.insert(HubVisibility.grantHead, width: 6, tuple: HubVisibility.grantTuple, grants)
        try context.insert(HubVisibility.grantHead, width: 5, known)
        try context.insert(HubVisibility.feedHead, width: 6, events)
        return granted
    }

    /// For each row of a table that is not a catalogue, the sites that newly may see it and those
    /// that may no longer, as the policy judges it against `_hub_visibility`, in the order of the
    /// rows' tables and keys (rows without a difference left out); reads only.
    func differences(_ rows: Set<RowKey>, _ body: (RowKey, _ grant: [String], _ revoke: [String]) throws -> Void) throws {
        try context.flush()
        let offices = try HubVisibility.offices(context)
        var found = SightDifferences()
        let byTable = Dictionary(grouping: rows, by: \.table)
        for (table, addresses) in byTable {
            guard let rule = policy[table], rule.receivers == .linked, let spec = context.schema.table(named: table) else { continue }
            let wantedSQL = receiversSQL(spec, rule)
            let keys = addresses.map(\.key).sorted()
            for start in stride(from: 0, to: keys.count, by: HubVisibility.chunk) {
                let list = try HubVisibility.jsonArray(keys[start..<min(keys.count, start + HubVisibility.chunk)])
                for r in try context.query(wantedSQL, [.text(list)]) {
                    guard let key = r[0].text, let site = r[1].text, !offices.contains(site) else { continue }
                    found.wanted(table, key, site: site)
                }
                for r in try context.query(HubVisibility.storedSQL, [.text(list), .text(table)]) {
                    guard let key = r[0].text, let site = r[1].text else { continue }
                    found.stored(table, key, site: site)
                }
            }
        }
        try found.forEach(body)
    }

    /// Keys per statement: the JSON list of a chunk stays small, and so does what one read holds.
    static let chunk = 2_000

    /// The sites a chunk of keys (`?1`, a JSON array) is visible to at the hub now, for table `?2`.
    static let storedSQL = """
        SELECT v.key, v.site FROM (SELECT DISTINCT value AS key FROM json_each(?1)) b
        JOIN _hub_visibility v ON v.tbl = ?2 AND v.key = b.key
        """

    /// A grant, with the row's change number for the site's feed (`HubRulesSQL+Feed`): site, table,
    /// key, since, then the table and key again for the number.
    static let grantHead = "INSERT INTO _hub_visibility(site, tbl, key, since, seq) VALUES "
    static let grantTuple = "(?, ?, ?, ?, (SELECT r.seq FROM _begawi_tables t JOIN _begawi_rows r ON r.tbl = t.id WHERE t.name = ? AND r.key = ?))"

    static let feedHead = "INSERT INTO _hub_feed(seq, site, tbl, key, kind, at) VALUES "

    /// The keys as a JSON array of strings, for `json_each`: written by hand (a `JSONEncoder` per
    /// chunk cost more than the statement it feeds); `"`, `\\` and control characters are escaped.
    static func jsonArray(_ keys: ArraySlice<String>) throws -> String {
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        bytes.reserveCapacity(keys.reduce(2) { $0 + $1.utf8.count + 3 })
        let hex = Array("0123456789abcdef".utf8)
        for (i, key) in keys.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "\""))
            for b in key.utf8 {
                switch b {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), b]
                case 0..<0x20: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 15)]]
                default: bytes.append(b)
                }
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "]"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The sites of kind office: they see every row without a grant.
    static func offices(_ context: ReplicaContext) throws -> Set<String> {
        Set(try context.query("SELECT id FROM _hub_sites WHERE kind = ?", [.text(SiteKind.office.rawValue)]).compactMap(\.first).compactMap(\.text))
    }

    /// Records a feed event for one site.
    func event(_ kind: HubRulesSQL.Event, site: String, _ address: RowKey) throws {
        try context.execute(HubVisibility.feedHead + "(?, ?, ?, ?, ?, ?)", eventValues(kind, site: site, address))
    }

    /// A feed event's values, numbered next in the change sequence.
    func eventValues(_ kind: HubRulesSQL.Event, site: String, _ address: RowKey) -> [SQLValue] {
        [.integer(Int64(context.nextSequence())), .text(site), .text(address.table), .text(address.key), .integer(kind.rawValue), .integer(now)]
    }

    /// Recomputes every row of every table that is not a catalogue (after the rules changed), and
    /// returns how many rows each site was newly granted.
    @discardableResult
    func rebuild() throws -> [String: Int] {
        try update(try linkedRows())
    }

    /// How many rows each site would be newly granted by a rebuild under this policy, written nowhere
    /// (what `hub schema publish` reports before the hub recomputes at its next start).
    func widening() throws -> [String: Int] {
        var granted: [String: Int] = [:]
        try differences(try linkedRows()) { _, grant, _ in
            for site in grant { granted[site, default: 0] += 1 }
        }
        return granted
    }

    /// Every row of the tables that are not catalogues, and every row some site may see now.
    func linkedRows() throws -> Set<RowKey> {
        var all = Set<RowKey>()
        for (name, rule) in policy.tables where rule.receivers == .linked {
            for row in try context.query("SELECT key FROM _begawi_rows WHERE tbl = (SELECT id FROM _begawi_tables WHERE name = ?)", [.text(name)]) {
                if case .text(let key)? = row.first { all.insert(RowKey(table: name, key: key)) }
            }
            for row in try context.query("SELECT DISTINCT key FROM _hub_visibility WHERE tbl = ?", [.text(name)]) {
                if case .text(let key)? = row.first { all.insert(RowKey(table: name, key: key)) }
            }
        }
        return all
    }
}

extension SQLValue {
    /// The text, if this is text.
    var text: String? {
        if case .text(let t) = self { return t }
        return nil
    }
}
