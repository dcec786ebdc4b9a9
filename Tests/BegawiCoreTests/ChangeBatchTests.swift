import BegawiCore
import Foundation
import Testing

@Suite struct ChangeBatchTests {
    static func batch(base: UInt64, after: UInt64, through: UInt64, complete: Bool) -> ChangeBatch {
        ChangeBatch(source: "a", base: base, after: after, through: through, complete: complete, tables: [], rows: [])
    }

    @Test func aCompleteBatchMovesTheBaseUpToItsEnd() {
        #expect(Self.batch(base: 3, after: 10, through: 20, complete: true).cursorAfter == ExchangeCursor(base: 20, position: 20))
    }

    @Test func anIncompleteBatchKeepsItsBase() {
        #expect(Self.batch(base: 3, after: 10, through: 20, complete: false).cursorAfter == ExchangeCursor(base: 3, position: 20))
    }

    @Test func cursorsRoundTripThroughJSON() throws {
        let cursor = ExchangeCursor(base: 7, position: 12)
        let decoded = try JSONDecoder().decode(ExchangeCursor.self, from: JSONEncoder().encode(cursor))
        #expect(decoded == cursor)
        #expect(cursor.description == "7/12")
        #expect(ExchangeCursor.start == ExchangeCursor(base: 0, position: 0))
    }

    @Test func defaultLimitsBoundRowsAndBytes() {
        let limits = BatchLimits()
        #expect(limits.maxRows == 1_000)
        #expect(limits.maxValueBytes == 4 << 20)
    }

    @Test func aRowThatDoesNotMatchItsTableIsNotEncoded() throws {
        let table = BatchTable(name: "t", columns: ["a", "b"])
        var state = RowState(columnCount: 3)
        state.vector = VersionVector([("s", 1)])
        for bad in [RowChange(table: 0, key: "k", state: state), RowChange(table: 1, key: "k", state: RowState(columnCount: 2)),
                    RowChange(table: -1, key: "k", state: RowState(columnCount: 2))] {
            let batch = ChangeBatch(source: "s", base: 0, after: 0, through: 1, complete: true, tables: [table], rows: [bad])
            let error = try #require(throws: BegawiError.self) { try BatchCodec.encode(batch) }
            #expect(error.code == .invalidArgument)
        }
    }

    @Test func aRegisterItsVectorDoesNotCoverIsNotEncoded() throws {
        var state = RowState(columnCount: 1)
        state.vector = VersionVector([("s", 1)])
        state.columns[0] = Register(value: .integer(1), stamp: stamp(10, "s", 2))
        let batch = ChangeBatch(source: "s", base: 0, after: 0, through: 1, complete: true,
                                tables: [BatchTable(name: "t", columns: ["a"])], rows: [RowChange(table: 0, key: "k", state: state)])
        let error = try #require(throws: BegawiError.self) { try BatchCodec.encode(batch) }
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("cover"))
    }
}

@Suite struct BegawiErrorTests {
    @Test func theDescriptionCarriesMessageCodeAndCause() {
        let error = BegawiError(.badBatch, "resend it", cause: "zlib status -3")
        #expect(error.description == "resend it [bad-batch] (cause: zlib status -3)")
        #expect(BegawiError(.clock, "x").description == "x [clock]")
        #expect(error.location.hasPrefix("BegawiCoreTests/ChangeBatchTests.swift:"))
    }

    @Test func equalityIgnoresCauseAndLocation() {
        #expect(BegawiError(.storage, "m", cause: "a") == BegawiError(.storage, "m", cause: "b"))
        #expect(BegawiError(.storage, "m") != BegawiError(.corrupted, "m"))
    }
}
