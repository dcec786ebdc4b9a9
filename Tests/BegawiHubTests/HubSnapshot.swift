import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiRules
import Foundation
import GRDB

/// What the hub holds, compared before and after: the synced tables and the merge state.
struct HubSnapshot: Equatable {
    var tables: [String: [String: [SQLValue]]]
    var mergeState: [[DatabaseValue]]

    func difference(to other: HubSnapshot) -> String {
        var parts: [String] = []
        for (name, rows) in tables where other.tables[name] != rows {
            let theirs = other.tables[name] ?? [:]
            let changed = Set(rows.keys).union(theirs.keys).filter { rows[$0] != theirs[$0] }
            parts.append("\(name): \(changed.sorted())")
        }
        if mergeState != other.mergeState { parts.append("_begawi_rows: \(mergeState.count) → \(other.mergeState.count) rows, contents differ") }
        return parts.joined(separator: "; ")
    }
}
