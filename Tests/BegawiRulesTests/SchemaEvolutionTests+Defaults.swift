import BegawiCore
import BegawiRules
import Foundation
import Testing

/// Column defaults (issue 14, item 1: "new columns that are nullable or have a default"): a new NOT NULL
/// column needs one; an installed column's default stays as published.
extension SchemaEvolutionTests {
    @Test func aNewNotNullColumnWithADefaultIsAllowed() throws {
        let courses = SchemaEvolutionTests.courses(SchemaEvolutionTests.original
            + #", {"name": "location", "not_null": true, "default": "Bontang"}, {"name": "hours", "type": "REAL", "default": 40}"#)
        let evolution = try check(try SchemaEvolutionTests.document(2, courses, SchemaEvolutionTests.seats))
        #expect(evolution.isAllowed, "\(evolution.refusals)")
        #expect(evolution.changes.map(\.description) == ["column 'courses.location' added (TEXT NOT NULL, with a default)",
                                                         "column 'courses.hours' added (REAL, with a default)"])
    }

    @Test func anInstalledColumnsDefaultStaysAsPublished() throws {
        let withDefault = SchemaEvolutionTests.courses(SchemaEvolutionTests.original + #", {"name": "location", "default": "Bontang"}"#)
        let v2 = try SchemaEvolutionTests.document(2, withDefault, SchemaEvolutionTests.seats)
        let history = [try SchemaEvolutionTests.v1, v2]
        for (change, columns) in [("changed", #", {"name": "location", "default": "Samarinda"}"#), ("removed", #", {"name": "location"}"#)] {
            let courses = SchemaEvolutionTests.courses(SchemaEvolutionTests.original + columns)
            try refused(try SchemaEvolutionTests.document(3, courses, SchemaEvolutionTests.seats), "column 'courses.location': its default is \(change)",
                        remedy: "add a new column with it", history: history)
        }
        let quota = SchemaEvolutionTests.courses(#"{"name": "provider", "not_null": true}, {"name": "title", "max_bytes": 100}, {"name": "notes", "multiline": true}, {"name": "quota", "type": "INTEGER", "default": 0}"#)
        try refused(try SchemaEvolutionTests.document(2, quota, SchemaEvolutionTests.seats), "column 'courses.quota': its default is added",
                    remedy: "keep its default as published")
    }

    @Test func aDefaultIsAConstantOfTheColumnsTypeWithinItsLimits() throws {
        func problem(_ column: String) -> String? {
            do {
                _ = try SchemaEvolutionTests.document(1, SchemaEvolutionTests.courses(column))
                return nil
            } catch let error as BegawiError {
                return error.message
            } catch {
                return "\(error)"
            }
        }
        #expect(problem(#"{"name": "quota", "type": "INTEGER", "default": "ten"}"#)?.contains("table 'courses': column 'quota': its default must be a whole number") == true)
        #expect(problem(#"{"name": "quota", "type": "INTEGER", "default": 2.5}"#)?.contains("must be a whole number") == true)
        #expect(problem(#"{"name": "title", "default": 3}"#)?.contains("column 'title': its default must be a string, the column being TEXT") == true)
        #expect(problem(#"{"name": "photo", "type": "BLOB", "default": "x"}"#)?.contains("a BLOB column cannot have a default") == true)
        #expect(problem(#"{"name": "title", "max_bytes": 4, "default": "Bontang"}"#)?.contains("its default does not fit: 'title' holds 7 bytes") == true)
        #expect(problem(#"{"name": "title", "default": "a\u0000b"}"#)?.contains("U+0000") == true)
        #expect(problem(#"{"name": "title", "default": true}"#)?.contains("\"default\" must be a string or a number") == true)
        #expect(problem(#"{"name": "hours", "type": "REAL", "default": 1.5}, {"name": "rate", "type": "NUMERIC", "default": 2}, {"name": "title", "default": null}"#) == nil)
    }

    @Test func aDefaultIsReadAndWrittenAndAColumnWithoutOneEncodesAsBefore() throws {
        let document = try SchemaEvolutionTests.document(1, SchemaEvolutionTests.courses(
            #"{"name": "title", "default": "O'Brien"}, {"name": "hours", "type": "REAL", "default": 40}, {"name": "quota", "type": "INTEGER", "default": -3}, {"name": "notes"}, {"name": "rate", "type": "NUMERIC", "default": 2.0}, {"name": "ratio", "type": "NUMERIC", "default": 0.5}"#))
        let columns = try #require(document.schema.table(named: "courses")).columns
        #expect(columns.map(\.defaultValue) == [.text("O'Brien"), .real(40), .integer(-3), nil, .integer(2), .real(0.5)])
        #expect(columns.map(\.defaultLiteral) == ["'O''Brien'", "40.0", "-3", nil, "2", "0.5"])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        #expect(String(decoding: try encoder.encode(columns[3]), as: UTF8.self) == #"{"name":"notes","not_null":false,"type":"TEXT"}"#)
        let again = try JSONDecoder().decode([ColumnSpec].self, from: try encoder.encode(columns))
        #expect(again == columns)
    }
}
