@testable import BegawiSite
import Testing

/// Snapshot parts sized to the link: from one page, twice the last while parts arrive within the
/// target, half after a part lost to the link, within the bounds.
@Suite struct SnapshotPartSizerTests {
    @Test func partsGrowOnAFastLinkAndHalveAfterALoss() {
        let sizer = SnapshotPartSizer(BatchSizer(maxRows: 50_000, minRows: 50, startRows: 2000, targetSeconds: 4))
        var asked: [Int] = []
        for _ in 0..<6 {
            asked.append(sizer.rows)
            // Loopback: 300 bytes a row at 100 MB/s.
            sizer.record(rows: sizer.rows, bytes: sizer.rows * 300, seconds: Double(sizer.rows) * 300 / 100_000_000)
        }
        #expect(asked == [2000, 4000, 8000, 16_000, 32_000, 50_000])
        sizer.lost()
        #expect(sizer.rows == 25_000)
        for _ in 0..<20 { sizer.lost() }
        #expect(sizer.rows == 50, "never below the smallest part")
    }

    @Test func onALinkThatDropsEveryTwoSecondsPartsStayShort() {
        // 25 KB/s (200 kbit/s), 450 bytes a row: a part of 50 rows takes about a second.
        let sizer = SnapshotPartSizer(BatchSizer(maxRows: 50_000, minRows: 10, startRows: 50, targetSeconds: 4))
        var asked: [Int] = []
        for _ in 0..<12 {
            let rows = sizer.rows, seconds = 0.2 + Double(rows) * 450 / 25_000
            asked.append(rows)
            if seconds > 2 { sizer.lost() } else { sizer.record(rows: rows, bytes: rows * 450, seconds: seconds) }
        }
        #expect(asked.max()! <= 200, "parts stay near what arrives between two drops: \(asked)")
        #expect(asked.filter { 0.2 + Double($0) * 450 / 25_000 <= 2 }.count >= 6, "most parts arrive: \(asked)")
    }
}
