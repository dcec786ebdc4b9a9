import BegawiCore
import Foundation
import Testing

@Suite struct SchemaTests {
    static func columns(_ names: String...) -> [ColumnSpec] { names.map { ColumnSpec(name: $0) } }

    static func validationError(_ table: TableSpec) -> BegawiError? {
        do {
            try table.validate()
            return nil
        } catch let error as BegawiError {
            return error
        } catch {
            return nil
        }
    }

    @Test func aTypicalSchemaIsValid() throws {
        let schema = Schema(tables: [
            TableSpec(name: "people", columns: [
                ColumnSpec(name: "name", notNull: true), ColumnSpec(name: "age", type: "INTEGER"),
                ColumnSpec(name: "weight", type: "real"), ColumnSpec(name: "photo", type: "BLOB"),
                ColumnSpec(name: "amount", type: "NUMERIC"),
            ]),
            TableSpec(name: "Visits_2026", key: "visit_id", columns: Self.columns("person_id", "note")),
        ])
        try schema.validate()
        #expect(schema.table(named: "people")?.position(of: "weight") == 2)
        #expect(schema.table(named: "people")?.position(of: "id") == nil)
        #expect(schema.table(named: "nobody") == nil)
        #expect(schema.tables[1].primaryKey == ColumnSpec(name: "visit_id", type: "TEXT", notNull: true))
    }

    @Test(arguments: ["INTEGER", "integer", "REAL", "BLOB", "NUMERIC", "VARCHAR(36)"])
    func aNonTextPrimaryKeyIsRefusedNamingTheTable(_ type: String) throws {
        let table = TableSpec(name: "patients", primaryKey: ColumnSpec(name: "patient_no", type: type), columns: Self.columns("name"))
        let error = try #require(Self.validationError(table))
        #expect(error.code == .invalidSchema)
        #expect(error.message.contains("'patients'"))
        #expect(error.message.contains("patient_no"))
        #expect(error.message.contains("TEXT"))
        // The schema reports it too.
        #expect(throws: BegawiError.self) { try Schema(tables: [table]).validate() }
    }

    @Test func aLowercaseTextPrimaryKeyIsAccepted() throws {
        try TableSpec(name: "t", primaryKey: ColumnSpec(name: "id", type: "text"), columns: Self.columns("a")).validate()
    }

    @Test(arguments: [
        "", "1people", "_people", "people-list", "people list", "people;drop", "caf\u{E9}", "\"people\"",
        "_begawi_meta", "_BEGAWI_x", "sqlite_master", "SQLite_stat1", String(repeating: "a", count: 65),
    ])
    func aBadTableNameIsRefused(_ name: String) throws {
        let error = try #require(Self.validationError(TableSpec(name: name, columns: Self.columns("a"))))
        #expect(error.code == .invalidSchema)
        #expect(error.message.contains("'\(name)'"))
    }

    @Test(arguments: ["", "2nd", "first name", "a.b", "na\u{EF}ve", "x\u{0}", String(repeating: "c", count: 65)])
    func aBadColumnNameIsRefused(_ name: String) throws {
        let error = try #require(Self.validationError(TableSpec(name: "people", columns: Self.columns("ok", name))))
        #expect(error.code == .invalidSchema)
        #expect(error.message.contains("'people'"))
        #expect(error.message.contains("'\(name)'"))
    }

    @Test func aBadKeyNameIsRefused() throws {
        let error = try #require(Self.validationError(TableSpec(name: "people", key: "my key", columns: Self.columns("a"))))
        #expect(error.message.contains("'my key'"))
    }

    @Test func namesOf64BytesAreTheLongestAccepted() throws {
        let long = "a" + String(repeating: "_9", count: 31) + "z"
        #expect(long.utf8.count == 64)
        try TableSpec(name: long, columns: Self.columns(long)).validate()
        #expect(Identifier.isValid("A"))
        #expect(Identifier.isValid("z9_"))
        #expect(!Identifier.isValid("@a"))
        #expect(!Identifier.isValid("[a"))
        #expect(!Identifier.isValid("a`"))
    }

    @Test(arguments: [("name", "name"), ("name", "NAME"), ("Name", "nAmE")])
    func aDuplicateColumnIsRefused(_ first: String, _ second: String) throws {
        let error = try #require(Self.validationError(TableSpec(name: "people", columns: Self.columns(first, "age", second))))
        #expect(error.code == .invalidSchema)
        #expect(error.message.contains("'people'"))
        #expect(error.message.contains("declared twice"))
    }

    @Test(arguments: ["id", "ID", "Id"])
    func aColumnNamedLikeThePrimaryKeyIsRefused(_ name: String) throws {
        // SQLite refuses a table that declares one column twice, so the schema must refuse it first.
        let error = try #require(Self.validationError(TableSpec(name: "people", columns: Self.columns("name", name))),
                                 "a non-key column '\(name)' beside the key 'id' was accepted")
        #expect(error.code == .invalidSchema)
        #expect(error.message.contains("'\(name)'"))
    }

    @Test(arguments: ["DATETIME", "ANY", "VARCHAR(20)", "", "TEXT NOT NULL"])
    func anUnknownColumnTypeIsRefused(_ type: String) throws {
        let table = TableSpec(name: "people", columns: [ColumnSpec(name: "born", type: type)])
        let error = try #require(Self.validationError(table))
        #expect(error.message.contains("'born'"))
        #expect(error.message.contains("'\(type)'"))
        #expect(error.message.contains("INTEGER"), "the message lists the types to use")
    }

    @Test func columnCountsFromOneToTheMaximumAreAccepted() throws {
        for count in [1, 2, TableSpec.maximumColumns - 1, TableSpec.maximumColumns] {
            try TableSpec(name: "t", columns: (0..<count).map { ColumnSpec(name: "c\($0)") }).validate()
        }
        // The capture trigger's changed-column mask is 64 bits wide.
        #expect(TableSpec.maximumColumns <= 63)
    }

    @Test(arguments: [0, TableSpec.maximumColumns + 1, 200])
    func tooFewOrTooManyColumnsAreRefused(_ count: Int) throws {
        let table = TableSpec(name: "wide", columns: (0..<count).map { ColumnSpec(name: "c\($0)") })
        let error = try #require(Self.validationError(table))
        #expect(error.code == .invalidSchema)
        #expect(error.message.contains("'wide'"))
        #expect(error.message.contains("\(count)"))
    }

    @Test func aTableDeclaredTwiceIsRefused() throws {
        let schema = Schema(tables: [
            TableSpec(name: "people", columns: Self.columns("a")), TableSpec(name: "People", columns: Self.columns("b")),
        ])
        let error = try #require(throws: BegawiError.self) { try schema.validate() }
        #expect(error.code == .invalidSchema)
        #expect(error.message.contains("'People'"))
    }

    @Test func theFirstBadTableIsTheOneNamed() throws {
        let schema = Schema(tables: [
            TableSpec(name: "good", columns: Self.columns("a")),
            TableSpec(name: "bad", primaryKey: ColumnSpec(name: "id", type: "INTEGER"), columns: Self.columns("a")),
            TableSpec(name: "alsobad", columns: []),
        ])
        let error = try #require(throws: BegawiError.self) { try schema.validate() }
        #expect(error.message.contains("'bad'"))
        #expect(!error.message.contains("alsobad"))
    }

    @Test func tablesDecodeWithDefaults() throws {
        let json = #"""
            {"tables": [
              {"name": "people", "columns": [{"name": "name", "not_null": true}, {"name": "age", "type": "INTEGER"}]},
              {"name": "visits", "key": "visit_id", "key_type": "TEXT", "columns": [{"name": "note"}]}
            ]}
            """#
        let schema = try JSONDecoder().decode(Schema.self, from: Data(json.utf8))
        #expect(schema.tables[0].primaryKey == ColumnSpec(name: "id", type: "TEXT", notNull: true))
        #expect(schema.tables[0].columns == [ColumnSpec(name: "name", type: "TEXT", notNull: true), ColumnSpec(name: "age", type: "INTEGER", notNull: false)])
        #expect(schema.tables[1].primaryKey.name == "visit_id")
        try schema.validate()
        let again = try JSONDecoder().decode(Schema.self, from: JSONEncoder().encode(schema))
        #expect(again == schema)
    }

    @Test func anIntegerKeyTypeFromJSONIsRefusedNamingTheTable() throws {
        let json = #"{"tables": [{"name": "households", "key": "no", "key_type": "INTEGER", "columns": [{"name": "head"}]}]}"#
        let schema = try JSONDecoder().decode(Schema.self, from: Data(json.utf8))
        #expect(schema.tables[0].primaryKey.type == "INTEGER")
        let error = try #require(throws: BegawiError.self) { try schema.validate() }
        #expect(error.message.contains("'households'"))
        // The key type survives a round trip, so it cannot be laundered into TEXT.
        let again = try JSONDecoder().decode(Schema.self, from: JSONEncoder().encode(schema))
        #expect(again.tables[0].primaryKey.type == "INTEGER")
    }

    @Test func theExampleConfigurationIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let data = try Data(contentsOf: root.appendingPathComponent("config/schema.example.json"))
        let schema = try JSONDecoder().decode(Schema.self, from: data)
        #expect(!schema.tables.isEmpty)
        try schema.validate()
    }
}
