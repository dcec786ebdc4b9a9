import BegawiCore
import Foundation
import Testing

@Suite struct ChangeBatchTests {
    static func batch(baseSeq: UInt64, afterSeq: UInt64, throughSeq: UInt64, complete: Bool) -> ChangeBatch {
        ChangeBatch(replicaID: "a", baseSeq: baseSeq, afterSeq: afterSeq, throughSeq: throughSeq, complete: complete, tables: [], rows: [])
    }

    @Test func aCompleteBatchMovesTheBaseUpToItsEnd() {
        #expect(Self.batch(baseSeq: 3, afterSeq: 10, throughSeq: 20, complete: true).cursorAfter == ExchangeCursor(baseSeq: 20, seq: 20))
    }

    @Test func anIncompleteBatchKeepsItsBase() {
        #expect(Self.batch(baseSeq: 3, afterSeq: 10, throughSeq: 20, complete: false).cursorAfter == ExchangeCursor(baseSeq: 3, seq: 20))
    }

    @Test func cursorsRoundTripThroughJSON() throws {
        let cursor = ExchangeCursor(baseSeq: 7, seq: 12)
        let decoded = try JSONDecoder().decode(ExchangeCursor.self, from: JSONEncoder().encode(cursor))
        #expect(decoded == cursor)
        #expect(cursor.description == "7/12")
        #expect(ExchangeCursor.start == ExchangeCursor(baseSeq: 0, seq: 0))
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
            let batch = ChangeBatch(replicaID: "s", baseSeq: 0, afterSeq: 0, throughSeq: 1, complete: true, tables: [table], rows: [bad])
            let error = try #require(throws: BegawiError.self) { try BatchCodec.encode(batch) }
            #expect(error.code == .invalidArgument)
        }
    }

    @Test func aRegisterItsVectorDoesNotCoverIsNotEncoded() throws {
        var state = RowState(columnCount: 1)
        state.vector = VersionVector([("s", 1)])
        state.columns[0] = Register(value: .integer(1), stamp: stamp(10, "s", 2))
        let batch = ChangeBatch(replicaID: "s", baseSeq: 0, afterSeq: 0, throughSeq: 1, complete: true,
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
