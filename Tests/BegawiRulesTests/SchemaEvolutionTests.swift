import BegawiCore
import BegawiRules
import Foundation
import Testing

/// The check a new schema version passes: each allowed change is listed, each refused one comes with
/// what to do instead, and every refusal of a candidate is reported at once.
@Suite struct SchemaEvolutionTests {
    static let courses = #"{"name": "courses", "columns": [{"name": "provider", "not_null": true}, {"name": "title", "max_bytes": 100}, {"name": "notes", "multiline": true}, {"name": "quota", "type": "INTEGER"}]}"#
    static let seats = #"{"name": "seats", "columns": [{"name": "course_id", "not_null": true}, {"name": "status"}]}"#

    static func document(_ version: Int, _ tables: String...) throws -> SchemaDocument {
        try SchemaDocument.parse(Data(#"{"version": \#(version), "tables": [\#(tables.joined(separator: ", "))]}"#.utf8))
    }

    static var v1: SchemaDocument { get throws { try document(1, courses, seats) } }

    /// `courses` with its columns replaced by `columns`.
    static func courses(_ columns: String) -> String { #"{"name": "courses", "columns": [\#(columns)]}"# }
    static let original = #"{"name": "provider", "not_null": true}, {"name": "title", "max_bytes": 100}, {"name": "notes", "multiline": true}, {"name": "quota", "type": "INTEGER"}"#

    func check(_ candidate: SchemaDocument, history: [SchemaDocument]? = nil) throws -> SchemaEvolution {
        SchemaEvolution(history: try history ?? [SchemaEvolutionTests.v1], candidate: candidate)
    }

    func refused(_ candidate: SchemaDocument, _ problem: String, remedy: String, history: [SchemaDocument]? = nil) throws {
        let evolution = try check(candidate, history: history)
        #expect(!evolution.isAllowed)
        let refusal = try #require(evolution.refusals.first { $0.problem.contains(problem) }, "\(evolution.refusals)")
        #expect(refusal.remedy.contains(remedy), "\(refusal.remedy)")
        let error = try #require(throws: BegawiError.self) { try evolution.requireAllowed() }
        #expect(error.code == .invalidSchema)
        #expect(error.message.contains(refusal.description), "\(error.message)")
    }

    // MARK: allowed

    @Test func theFirstVersionIsAllowed() throws {
        let evolution = SchemaEvolution(history: [], candidate: try SchemaEvolutionTests.v1)
        #expect(evolution.isAllowed)
        #expect(evolution.current == nil)
        #expect(evolution.summary.contains("the first, with 2 tables"))
    }

    @Test func aNewTableIsAllowed() throws {
        let visits = #"{"name": "visits", "columns": [{"name": "site", "not_null": true}]}"#
        let evolution = try check(try SchemaEvolutionTests.document(2, SchemaEvolutionTests.courses, SchemaEvolutionTests.seats, visits))
        #expect(evolution.isAllowed, "\(evolution.refusals)")
        #expect(evolution.changes.map(\.description) == ["table 'visits' added (1 column)"])
    }

    @Test func aNewNullableColumnAtTheEndIsAllowed() throws {
        let courses = SchemaEvolutionTests.courses(SchemaEvolutionTests.original + #", {"name": "location"}, {"name": "hours", "type": "REAL"}"#)
        let evolution = try check(try SchemaEvolutionTests.document(2, courses, SchemaEvolutionTests.seats))
        #expect(evolution.isAllowed, "\(evolution.refusals)")
        #expect(evolution.changes.map(\.description) == ["column 'courses.location' added (TEXT)", "column 'courses.hours' added (REAL)"])
    }

    @Test func aWiderLimitAndMultilineAreAllowed() throws {
        let courses = SchemaEvolutionTests.courses(#"{"name": "provider", "not_null": true}, {"name": "title", "max_bytes": 200, "multiline": true}, {"name": "notes", "multiline": true}, {"name": "quota", "type": "INTEGER"}"#)
        let evolution = try check(try SchemaEvolutionTests.document(2, courses, SchemaEvolutionTests.seats))
        #expect(evolution.isAllowed, "\(evolution.refusals)")
        #expect(evolution.changes.map(\.description) == ["column 'courses.title' may hold up to 200 bytes (was 100)", "column 'courses.title' may hold several lines"])
    }

    @Test func newAllowedValuesAndRuleChangesAreAllowed() throws {
        func ruled(_ version: Int, statuses: String, writers: String) throws -> SchemaDocument {
            let courses = SchemaEvolutionTests.courses(SchemaEvolutionTests.original).dropLast() + #", "access": {"owner": "provider", "writers": ["lpk"], "receivers": "all"}}"#
            let seats = SchemaEvolutionTests.seats.dropLast() + #", "access": {"owner": {"via": "course_id", "table": "courses"}, "writers": [\#(writers)], "values": {"status": [\#(statuses)]}}}"#
            return try SchemaEvolutionTests.document(version, String(courses), String(seats))
        }
        let v1 = try ruled(1, statuses: #""open", "taken""#, writers: #""lpk""#)
        let v2 = try ruled(2, statuses: #""open", "taken", "held""#, writers: #""lpk", "blki""#)
        let evolution = SchemaEvolution(history: [v1], candidate: v2)
        #expect(evolution.isAllowed, "\(evolution.refusals)")
        #expect(evolution.changes.map(\.description).contains("allowed values of 'seats.status': added held"))
        #expect(evolution.changes.contains { $0.description.hasPrefix("rules of 'seats' changed: writers") })
        // Rules first declared in a later version are a change too.
        #expect(SchemaEvolution(history: [try SchemaEvolutionTests.v1], candidate: v2).isAllowed)
    }

    @Test func theSameFileAgainIsAlreadyPublished() throws {
        let evolution = try check(try SchemaEvolutionTests.v1)
        #expect(evolution.isAllowed)
        #expect(evolution.isPublished)
    }

    // MARK: refused

    @Test func aDroppedTableIsRefused() throws {
        try refused(try SchemaEvolutionTests.document(2, SchemaEvolutionTests.courses), "table 'seats' is dropped", remedy: "keep 'seats' declared")
    }

    @Test func aDroppedColumnIsRefused() throws {
        let courses = SchemaEvolutionTests.courses(#"{"name": "provider", "not_null": true}, {"name": "title", "max_bytes": 100}, {"name": "notes", "multiline": true}"#)
        try refused(try SchemaEvolutionTests.document(2, courses, SchemaEvolutionTests.seats), "column 'courses.quota' is dropped", remedy: "add the new column, fill it")
    }

    @Test func aRenamedColumnIsRefusedAsADrop() throws {
        let courses = SchemaEvolutionTests.courses(#"{"name": "provider", "not_null": true}, {"name": "title", "max_bytes": 100}, {"name": "notes", "multiline": true}, {"name": "capacity", "type": "INTEGER"}"#)
        let evolution = try check(try SchemaEvolutionTests.document(2, courses, SchemaEvolutionTests.seats))
        #expect(evolution.refusals.map(\.problem) == ["column 'courses.quota' is dropped (a renamed column looks like a drop and an add)"])
    }

    @Test func aTypeChangeIsRefused() throws {
        let courses = SchemaEvolutionTests.courses(#"{"name": "provider", "not_null": true}, {"name": "title", "max_bytes": 100}, {"name": "notes", "multiline": true}, {"name": "quota", "type": "TEXT"}"#)
        try refused(try SchemaEvolutionTests.document(2, courses, SchemaEvolutionTests.seats), "changes type from INTEGER to TEXT", remedy: "add a new column of type TEXT")
    }

    @Test func aNewNotNullColumnIsRefused() throws {
        let courses = SchemaEvolutionTests.courses(SchemaEvolutionTests.original + #", {"name": "location", "not_null": true}"#)
        try refused(try SchemaEvolutionTests.document(2, courses, SchemaEvolutionTests.seats), "new column 'courses.location' is NOT NULL without a default",
                    remedy: "give it a \"default\" (rows already stored, and rows from sites on older versions, hold it), or declare it without \"not_null\"")
    }

    @Test func nullabilityChangesAreRefusedBothWays() throws {
        let tightened = SchemaEvolutionTests.courses(#"{"name": "provider", "not_null": true}, {"name": "title", "max_bytes": 100, "not_null": true}, {"name": "notes", "multiline": true}, {"name": "quota", "type": "INTEGER"}"#)
        try refused(try SchemaEvolutionTests.document(2, tightened, SchemaEvolutionTests.seats), "'courses.title' becomes NOT NULL", remedy: "keep it nullable")
        let loosened = SchemaEvolutionTests.courses(#"{"name": "provider"}, {"name": "title", "max_bytes": 100}, {"name": "notes", "multiline": true}, {"name": "quota", "type": "INTEGER"}"#)
        try refused(try SchemaEvolutionTests.document(2, loosened, SchemaEvolutionTests.seats), "'courses.provider' stops being NOT NULL", remedy: "keep it NOT NULL")
    }

    @Test func narrowerLimitsAreRefused() throws {
        let courses = SchemaEvolutionTests.courses(#"{"name": "provider", "not_null": true}, {"name": "title", "max_bytes": 50}, {"name": "notes"}, {"name": "quota", "type": "INTEGER"}"#)
        let evolution = try check(try SchemaEvolutionTests.document(2, courses, SchemaEvolutionTests.seats))
        #expect(evolution.refusals.map(\.problem) == ["column 'courses.title': max_bytes shrinks from 100 to 50", "column 'courses.notes' is no longer multiline"])
    }

    @Test func aKeyChangeIsRefused() throws {
        let seats = #"{"name": "seats", "key": "seat_id", "columns": [{"name": "course_id", "not_null": true}, {"name": "status"}]}"#
        try refused(try SchemaEvolutionTests.document(2, SchemaEvolutionTests.courses, seats), "its key changes from 'id' to 'seat_id'", remedy: "add a new table with the new key")
    }

    @Test func aReorderedOrInsertedColumnIsRefused() throws {
        let inserted = SchemaEvolutionTests.courses(#"{"name": "location"}, "# + SchemaEvolutionTests.original)
        try refused(try SchemaEvolutionTests.document(2, inserted, SchemaEvolutionTests.seats), "a new column comes before an existing one", remedy: "add new ones at the end")
        let swapped = SchemaEvolutionTests.courses(#"{"name": "title", "max_bytes": 100}, {"name": "provider", "not_null": true}, {"name": "notes", "multiline": true}, {"name": "quota", "type": "INTEGER"}"#)
        try refused(try SchemaEvolutionTests.document(2, swapped, SchemaEvolutionTests.seats), "its columns are reordered", remedy: "keep the existing columns in their order")
    }

    @Test func aNameUsedByAnEarlierVersionIsNeverReused() throws {
        // A history may hold a table or column that a later version no longer declares (an older
        // hub's, made before drops were refused); its names, in any case, stay taken.
        let rooms = #"{"name": "rooms", "columns": [{"name": "label"}]}"#
        let old = try SchemaEvolutionTests.document(1, SchemaEvolutionTests.courses(SchemaEvolutionTests.original + #", {"name": "room"}"#),
                                                    SchemaEvolutionTests.seats, rooms)
        let current = try SchemaEvolutionTests.document(2, SchemaEvolutionTests.courses, SchemaEvolutionTests.seats)
        let reuse = try SchemaEvolutionTests.document(3, SchemaEvolutionTests.courses(SchemaEvolutionTests.original + #", {"name": "Room"}"#),
                                                      SchemaEvolutionTests.seats, #"{"name": "Rooms", "columns": [{"name": "label"}]}"#)
        let evolution = SchemaEvolution(history: [current, old], candidate: reuse)
        #expect(evolution.refusals.map(\.problem) == ["column name 'courses.Room' was used by version 1", "table name 'Rooms' was used by version 1"])
        #expect(evolution.refusals.allSatisfy { $0.remedy.contains("choose a new name") })
    }

    @Test func aVersionNotAboveTheCurrentIsRefused() throws {
        let v2 = try SchemaEvolutionTests.document(2, SchemaEvolutionTests.courses, SchemaEvolutionTests.seats, #"{"name": "visits", "columns": [{"name": "site"}]}"#)
        let older = try SchemaEvolutionTests.document(1, SchemaEvolutionTests.courses, SchemaEvolutionTests.seats, #"{"name": "rooms", "columns": [{"name": "label"}]}"#)
        try refused(older, "version 1 is published already with other content", remedy: "\"version\": 3", history: [try SchemaEvolutionTests.v1, v2])
        // The first version again, unchanged but no longer the current one, is not a publication either.
        try refused(try SchemaEvolutionTests.v1, "version 1 is published already", remedy: "\"version\": 3", history: [try SchemaEvolutionTests.v1, v2])
        let skipped = try SchemaEvolutionTests.document(1, SchemaEvolutionTests.courses, SchemaEvolutionTests.seats)
        try refused(skipped, "version 1 is older than the published version 2", remedy: "\"version\": 3", history: [v2])
    }

    @Test func theSameVersionWithOtherContentIsRefused() throws {
        let changed = try SchemaEvolutionTests.document(1, SchemaEvolutionTests.courses, SchemaEvolutionTests.seats, #"{"name": "visits", "columns": [{"name": "site"}]}"#)
        try refused(changed, "version 1 is published already with other content", remedy: "give the new file \"version\": 2")
    }

    @Test func everyRefusalIsReportedAtOnce() throws {
        let courses = SchemaEvolutionTests.courses(#"{"name": "provider", "not_null": true}, {"name": "title", "max_bytes": 100}, {"name": "notes", "multiline": true}, {"name": "quota", "type": "REAL"}, {"name": "location", "not_null": true}"#)
        let evolution = try check(try SchemaEvolutionTests.document(2, courses))
        #expect(evolution.refusals.count == 3, "\(evolution.refusals)")
        let error = try #require(throws: BegawiError.self) { try evolution.requireAllowed() }
        #expect(error.message.components(separatedBy: "\n- ").count == 4, "\(error.message)")
    }
}
