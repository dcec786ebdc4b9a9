import Foundation
import Testing

/// The hub's data on PostgreSQL, searched as the SQLite hub's file is: a hub on PostgreSQL has no
/// file of its own, so its database is searched two ways. `postgresHits` reads every live row of
/// every table as text (a `bytea` as its hex, so that the merge state's and the ledger's values are
/// searched too); `vacuumedHubFiles` runs what docs/postgresql.md tells the operator to run after
/// an erasure (`VACUUM FULL`, then `CHECKPOINT`) and gives the database's own files on the server's
/// disk, for a search of their raw bytes. The write-ahead log is the server's, shared by every
/// database, and is not searched (docs/postgresql.md says what it keeps, and for how long).
extension Agencies {
    /// The keys of a table's rows at a site (or "hub"), live rows and tombstones, the condition's
    /// `?` taking text values (as `Cluster.query` takes them for the hub on PostgreSQL).
    func keys(_ site: String, _ table: String, where condition: String, _ values: [String]) throws -> Set<String> {
        let live = try cluster.query(site, "SELECT id FROM \"\(table)\" WHERE \(condition)", values)
        let dead = try cluster.query(site, "SELECT id FROM \"_begawi_dead_\(table)\" WHERE \(condition)", values)
        return Set((live + dead).compactMap(\.first))
    }

    /// PostgreSQL: each value found in a live row of a table of the hub's database, with the table.
    func postgresHits(_ values: [(label: String, text: String)]) throws -> [(label: String, table: String)] {
        let values = values.filter { !$0.text.isEmpty }
        guard !values.isEmpty else { return [] }
        let quote = { (text: String) in "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
        let tables = try cluster.query("hub", "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").compactMap(\.first)
        let needles = "(VALUES " + values.enumerated().map { "(\($0.offset), \(quote($0.element.text)))" }.joined(separator: ", ") + ") AS n(i, v)"
        let sql = tables.map { table in
            """
            SELECT DISTINCT n.i, \(quote(table)) FROM "\(table.replacingOccurrences(of: "\"", with: "\"\""))" t, \(needles)
            WHERE strpos(t::text, n.v) > 0 OR strpos(t::text, encode(convert_to(n.v, 'UTF8'), 'hex')) > 0
            """
        }.joined(separator: " UNION ALL ")
        return try cluster.query("hub", sql).compactMap { row in
            guard row.count == 2, let i = Int(row[0]), values.indices.contains(i) else { return nil }
            return (values[i].label, row[1])
        }
    }

    /// PostgreSQL: `VACUUM FULL` and `CHECKPOINT` as the operator runs them after an erasure, then
    /// the files of the hub's database on the server's disk (the test runs as the files' reader).
    func vacuumedHubFiles() throws -> [String] {
        _ = try cluster.query("hub", "VACUUM FULL")
        _ = try cluster.query("hub", "CHECKPOINT")
        guard let folder = try cluster.query("hub", "SELECT current_setting('data_directory') || '/base/' || oid FROM pg_database WHERE datname = current_database()")
            .first?.first else { throw ClusterError("cannot find the hub database's folder") }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
        return names.sorted().map { "\(folder)/\($0)" }.filter { path in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && !isFolder.boolValue
        }
    }
}
