import BegawiCore
import Testing

/// A batch cut to an older schema: columns by name, tables left out with their rows and evictions,
/// and rows that carried changes only in what was left out are left out too.
@Suite struct ChangeBatchProjectionTests {
    static let v1 = Schema(tables: [TableSpec(name: "courses", columns: [ColumnSpec(name: "title"), ColumnSpec(name: "quota", type: "INTEGER")])])

    static func row(_ table: Int, _ key: String, _ values: [SQLValue?]) -> RowChange {
        var state = RowState(columnCount: values.count)
        state.vector = VersionVector([("new", 3)])
        for (i, value) in values.enumerated() { state.columns[i] = value.map { Register(value: $0, stamp: stamp(10, "new", UInt64(i + 1))) } }
        return RowChange(table: table, key: key, state: state)
    }

    @Test func aBatchIsCutToTheTablesAndColumnsOfAnOlderVersion() {
        let batch = ChangeBatch(replicaID: "hub", baseSeq: 0, afterSeq: 0, throughSeq: 9, complete: true,
                                tables: [BatchTable(name: "rooms", columns: ["building"]),
                                         BatchTable(name: "courses", columns: ["room", "title", "quota"])],
                                rows: [Self.row(0, "R1", [.text("A")]), Self.row(1, "c1", [.text("R1"), .text("Las"), nil]),
                                       Self.row(1, "c2", [.text("R2"), nil, nil])],
                                evictions: [RowEviction(table: 0, key: "R9"), RowEviction(table: 1, key: "c9")])
        let cut = batch.projected(onto: Self.v1)
        #expect(cut.tables == [BatchTable(name: "courses", columns: ["title", "quota"])])
        #expect(cut.rows.map(\.key) == ["c1"], "c2 changed only its room; R1 is in a table v1 lacks")
        #expect(cut.rows.first?.table == 0)
        #expect(cut.rows.first?.state.columns.map { $0?.value } == [.text("Las"), nil])
        #expect(cut.rows.first?.state.vector == VersionVector([("new", 3)]))
        #expect(cut.evictions == [RowEviction(table: 0, key: "c9")])
        #expect(cut.throughSeq == 9 && cut.complete)
    }
}
