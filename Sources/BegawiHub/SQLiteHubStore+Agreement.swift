import BegawiCore
public import BegawiReplica

extension SQLiteHubStore {
    /// Where a site's replica differs from what the hub gives that site under the rules, one message
    /// per row naming its table and key, never a value; empty when they agree.
    ///
    /// A site agrees when every row it holds is a row of the hub it may see, with the hub's values,
    /// and it holds every row of the hub it may see (the same view the hub's feed uses: the office
    /// sees everything, catalogues go to every site, other rows as `_hub_visibility` says). The
    /// answer is meaningful while neither side is syncing.
    public func disagreements(site: SiteRecord, replica other: Replica) throws -> [String] {
        let view = view(for: site)
        var found: [String] = []
        for table in schema.tables {
            guard other.schema.table(named: table.name) != nil else {
                found.append("\(table.name): the site's replica lacks this table")
                continue
            }
            let theirs = try other.rows(of: table.name)
            let ours = try rows(of: table.name)
            let visible = try replica.read { context in
                try Set(ours.keys).union(theirs.keys).filter { key in
                    try view?.includes(table: table.name, key: key, context: context) ?? true
                }
            }
            for key in Set(ours.keys).union(theirs.keys).sorted() {
                switch (ours[key], theirs[key]) {
                case (let hub?, let held?):
                    if !visible.contains(key) {
                        found.append("\(table.name) \(key): the site holds a row it may not see")
                    } else if hub.count != held.count || zip(hub, held).contains(where: { !$0.same(as: $1) }) {
                        found.append("\(table.name) \(key): the site's values differ from the hub's")
                    }
                case (_?, nil):
                    if visible.contains(key) { found.append("\(table.name) \(key): the site lacks a row it may see") }
                case (nil, _?):
                    found.append("\(table.name) \(key): the site holds a row the hub does not have")
                case (nil, nil):
                    continue
                }
            }
        }
        return found
    }
}
