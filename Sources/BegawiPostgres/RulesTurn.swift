import BegawiCore
import BegawiHub
import BegawiRules
import PostgresNIO

/// How a push under the rules takes turns with the others: the rows it judges and recomputes sight
/// of are locked, so pushes that touch other rows run at once; a push whose effects cannot be known
/// before it runs takes the whole turn, alone.
///
/// What a push reads and writes under the rules, and who else could change it meanwhile:
///
/// - Its batch's rows, and the rows their rule columns name (a participant an enrollment links, the
///   program that owns it), in the incoming values and in the stored ones: the gate reads these
///   (`PostgresRuleLookup`: owner, reference, `key_from`), and who may see a row depends on its owner
///   and on the live rows that link to it, each of which names it. So a lock per row named
///   (its `_begawi_rows` row locked `FOR UPDATE`, a placeholder made first when missing) makes every push that
///   could change a row's sight wait for every other that could: two pushes ending a person's last
///   two links both name the person, and the second recomputes its sight after the first commits
///   (READ COMMITTED: each statement reads what was committed before it).
/// - Rows found by a column's value rather than a key (`RuleLookup.rows(where:)`: the enrollments
///   that take their owner from a program whose owner changed) cannot be locked before they are
///   read: they are read only in the whole turn (the advisory lock `PostgresHubStore.rulesLock`
///   exclusive, which every other push holds shared). The office's push takes it from the start (it
///   may change any owner); another push that needs such rows (a program it holds whose owner its
///   batch changes) is refused them by the lookup (`RulesTurn.Missing`) and tried again in the whole
///   turn, as is any push that asks the lookup for a row it did not lock: an argument above that
///   missed a case costs time, not a leak.
///
/// Locks are taken in key order in one statement, before the rows are read; the rows
/// named only by stored values (an enrollment whose status alone changes) are locked after, which
/// two pushes can take in opposite orders: PostgreSQL then ends one with a deadlock error (after
/// `deadlock_timeout`, 1 s), and it is tried again in the whole turn.
struct RulesTurn {
    /// The rows locked so far; nil when the push holds the whole turn (it may read any row).
    private(set) var locked: Set<RowKey>?

    /// A row the shared turn did not lock was needed: the push is tried again in the whole turn.
    struct Missing: Error {}

    /// Takes the turn a push of `batch` needs: the whole turn when `whole` or for the office (see the
    /// type's comment); else the shared turn and the locks of the rows the batch names, and those its
    /// incoming values reference.
    static func take(for batch: ChangeBatch, site: SiteRecord, policy: AccessPolicy, whole: Bool, on link: PostgresLink) throws -> RulesTurn {
        if whole || site.kind == .office {
            try link.query("SELECT pg_advisory_xact_lock(\(PostgresHubStore.rulesLock))")
            return RulesTurn(locked: nil)
        }
        try link.query("SELECT pg_advisory_xact_lock_shared(\(PostgresHubStore.rulesLock))")
        var turn = RulesTurn(locked: [])
        var named = Set<RowKey>()
        for row in batch.rows where row.table < batch.tables.count {
            let table = batch.tables[row.table]
            named.insert(RowKey(table: table.name, key: row.key))
            for (column, target) in policy.references(of: table.name) {
                if let i = table.columns.firstIndex(of: column), i < row.state.columns.count, case .text(let key)? = row.state.columns[i]?.value {
                    named.insert(RowKey(table: target, key: key))
                }
            }
        }
        try turn.lock(named, on: link)
        return turn
    }

    /// Locks the rows the batch's stored rows reference (read after the rows were locked); nothing in
    /// the whole turn.
    mutating func lockStoredReferences(_ rows: MergeRows, schema: Schema, policy: AccessPolicy, on link: PostgresLink) throws {
        guard locked != nil else { return }
        var named = Set<RowKey>()
        for (address, entry) in rows.entries {
            guard let state = entry.state, let spec = schema.table(named: address.table) else { continue }
            for (column, target) in policy.references(of: address.table) {
                if let i = spec.position(of: column), i < state.columns.count, case .text(let key)? = state.columns[i]?.value {
                    named.insert(RowKey(table: target, key: key))
                }
            }
        }
        try lock(named, on: link)
    }

    /// Refuses (`Missing`) a row this turn may not read: one not locked in the shared turn.
    func require(_ address: RowKey) throws {
        if let locked, !locked.contains(address) { throw Missing() }
    }

    /// Refuses (`Missing`) reading rows by value in the shared turn.
    func requireWhole() throws {
        if locked != nil { throw Missing() }
    }

    /// Locks the merge-state rows (`_begawi_rows`) of `rows` not held yet, in key order: a row the
    /// hub does not hold gets a placeholder without a state first (as `MergeRows` makes them, removed
    /// by `removePlaceholders`), so that two pushes naming a row it does not hold yet take turns too.
    /// Row locks, not advisory locks: PostgreSQL keeps those in its shared lock table, whose
    /// `max_locks_per_transaction × max_connections` slots (6,400 by default) ten pushes of 400
    /// rows each exhausted (SQLSTATE 53200); a row lock is kept in the row.
    private mutating func lock(_ rows: Set<RowKey>, on link: PostgresLink) throws {
        guard let held = locked else { return }
        let wanted = rows.subtracting(held).sorted { ($0.table, $0.key) < ($1.table, $1.key) }
        guard !wanted.isEmpty else { return }
        var bindings = PostgresBindings()
        bindings.append(wanted.map(\.table))
        bindings.append(wanted.map(\.key))
        try link.query(PostgresQuery(unsafeSQL: """
            INSERT INTO _begawi_rows (tbl, key)
            SELECT tbl, key FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(tbl, key, n) ORDER BY n
            ON CONFLICT (tbl, key) DO NOTHING
            """, binds: bindings))
        try link.query(PostgresQuery(unsafeSQL: """
            SELECT 1 FROM _begawi_rows r JOIN unnest($1::text[], $2::text[]) AS u(tbl, key) ON r.tbl = u.tbl AND r.key = u.key
            ORDER BY r.tbl, r.key FOR UPDATE OF r
            """, binds: bindings))
        locked = held.union(wanted)
    }

    /// Removes the placeholders this turn made for rows the push did not write (rows its batch
    /// only referenced; `MergeRows.write` removes those of its own rows).
    func removePlaceholders(except batch: Set<RowKey>, on link: PostgresLink) throws {
        guard let locked else { return }
        try MergeRows.removePlaceholders(locked.subtracting(batch), on: link)
    }
}
