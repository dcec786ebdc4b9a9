@testable import BegawiSite
import Testing

@Suite struct BatchSizerTests {
    /// A link as the sizer sees it: a fixed cost per push (round trip, the hub's commit) and a rate.
    struct Link {
        var fixedSeconds: Double
        var bytesPerSecond: Double
        var bytesPerRow = 37.0

        func seconds(rows: Int) -> Double { fixedSeconds + Double(rows) * bytesPerRow / bytesPerSecond }

        /// Pushes `count` batches as the sizer sizes them; returns each batch's rows.
        func push(_ sizer: inout BatchSizer, count: Int) -> [Int] {
            (0..<count).map { _ in
                let rows = sizer.rows
                sizer.record(rows: rows, bytes: Int(Double(rows) * bytesPerRow), seconds: seconds(rows: rows))
                return rows
            }
        }
    }

    static let slow = Link(fixedSeconds: 0.35, bytesPerSecond: 8000)  // 64 kbit/s, 150 ms each way
    static let loopback = Link(fixedSeconds: 0.01, bytesPerSecond: 50_000_000)

    @Test func onASlowLinkBatchesSettleAtAFewSecondsOfTransfer() {
        var sizer = BatchSizer(maxRows: 2000)
        let sizes = BatchSizerTests.slow.push(&sizer, count: 12)
        #expect(sizes.first == 400)
        let target = sizer.targetSeconds
        for rows in sizes.suffix(6) {
            let seconds = BatchSizerTests.slow.seconds(rows: rows)
            #expect(seconds > target * 0.75 && seconds < target * 1.25, "a batch of \(rows) rows takes \(seconds) s on this link")
        }
        // The fixed 2,000-row batch would be ~9.6 s of this link, all lost to a reset.
        #expect(sizes.max()! < 2000)
    }

    @Test func onAFastLinkBatchesGrowTwofoldUpToTheConfiguredRows() {
        var sizer = BatchSizer(maxRows: 2000)
        #expect(BatchSizerTests.loopback.push(&sizer, count: 7) == [400, 800, 1600, 2000, 2000, 2000, 2000])
    }

    @Test func aSlowBatchShrinksTheNextAtOnce() {
        var sizer = BatchSizer(maxRows: 2000)
        _ = BatchSizerTests.loopback.push(&sizer, count: 6)
        #expect(sizer.rows == 2000)
        // The link drops to 64 kbit/s: the 2,000 rows took 9.6 s.
        sizer.record(rows: 2000, bytes: 74_000, seconds: BatchSizerTests.slow.seconds(rows: 2000))
        #expect(BatchSizerTests.slow.seconds(rows: sizer.rows) < sizer.targetSeconds * 1.25, "next batch: \(sizer.rows) rows")
    }

    @Test func aShortTailBatchDoesNotShrinkTheSize() {
        var sizer = BatchSizer(maxRows: 2000)
        _ = BatchSizerTests.loopback.push(&sizer, count: 6)
        sizer.record(rows: 3, bytes: 111, seconds: 0.01)
        #expect(sizer.rows == 2000)
    }

    @Test func figuresThatAreNoMeasurementAreIgnoredAndTheBoundsHold() {
        var sizer = BatchSizer(maxRows: 2000, minRows: 50)
        for (rows, bytes, seconds) in [(0, 100, 1.0), (10, 0, 1.0), (10, 100, 0), (10, 100, -1), (10, 100, .nan), (10, 100, .infinity)] {
            sizer.record(rows: rows, bytes: bytes, seconds: seconds)
        }
        #expect(sizer.rows == 400 && sizer.bytesPerSecond == nil)
        sizer.record(rows: 400, bytes: 1_000_000, seconds: 600)  // a stalled link: far below one row in the target
        #expect(sizer.rows == 50)
        #expect(BatchSizer(maxRows: 10).rows == 10 && BatchSizer(maxRows: 10).minRows == 10)
        #expect(BatchSizer(maxRows: 0).rows == 1)
    }
}
