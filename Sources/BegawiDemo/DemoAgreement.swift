import BegawiCore
import BegawiHub
import BegawiReplica

/// Prints what each replica holds, rows per table, and whether each site agrees with the hub under
/// the rules (`SQLiteHubStore.disagreements`): every row it holds is the hub's, and it holds every
/// row of the hub it may see.
enum DemoAgreement {
    /// Prints the table; returns whether every site agrees.
    static func check(store: SQLiteHubStore, folder: String, sites: [String]) throws -> Bool {
        let tables = store.schema.tables.map(\.name)
        let records = Dictionary(uniqueKeysWithValues: try store.sites().map { ($0.id, $0) })
        var lines: [[String]] = [[""] + tables + [""]]
        lines.append(["hub"] + (try tables.map { String(try store.rows(of: $0).count) }) + [""])
        var problems: [String: [String]] = [:]
        for site in sites {
            let replica = try Replica.open(at: "\(folder)/\(site).sqlite")
            defer { try? replica.close() }
            guard let record = records[site] else {
                throw BegawiError(.invalidArgument, "site \(site) is not registered at the demo's hub")
            }
            let found = try store.disagreements(site: record, replica: replica)
            problems[site] = found
            lines.append([site] + (try tables.map { String(try replica.rows(of: $0).count) }) + [found.isEmpty ? "agrees" : "DIFFERS"])
        }
        let widths = (0..<lines[0].count).map { i in lines.map { $0[i].count }.max() ?? 0 }
        for line in lines {
            let cells = line.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i == 0 || i == line.count - 1 ? cell + pad : pad + cell
            }
            print(trimmed("  " + cells.joined(separator: "  ")))
            for problem in problems[line[0]] ?? [] { print("    \(problem)") }
        }
        return problems.values.allSatisfy(\.isEmpty)
    }

    private static func trimmed(_ line: String) -> String {
        var text = line
        while text.last == " " { text.removeLast() }
        return text
    }
}
