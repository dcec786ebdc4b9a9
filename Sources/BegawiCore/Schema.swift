/// A declared set of synced tables.
public struct Schema: Codable, Hashable, Sendable {
    /// The tables, in declaration order.
    public var tables: [TableSpec]

    /// Makes a schema; `validate()` checks it.
    public init(tables: [TableSpec]) { self.tables = tables }

    /// The table with this name.
    public func table(named name: String) -> TableSpec? { tables.first { $0.name == name } }

    /// Throws an error naming the first table or column that cannot be synced.
    public func validate() throws {
        var seen = Set<String>()
        for table in tables {
            try table.validate()
            guard seen.insert(table.name.lowercased()).inserted else {
                throw BegawiError(.invalidSchema, "table '\(table.name)' is declared twice; declare each synced table once")
            }
        }
    }
}
