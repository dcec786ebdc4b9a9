@testable import BegawiSite
import Testing

/// Snapshot parts sized to the link: from one page, twice the last while parts arrive within the
/// target, half after a part lost to the link, within the bounds; compressed unless a part sent as
/// it is arrived faster.
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

    /// The modes asked for over 8 parts of 10,000 rows of 300 bytes, on a link of `link` bytes a second
    /// that deflate makes 3 times smaller, beside a hub that deflates 60 MB a second.
    private func modes(link: Double) -> [Bool] {
        let sizer = SnapshotPartSizer(BatchSizer(maxRows: 10_000, minRows: 50, startRows: 10_000, targetSeconds: 4))
        var asked: [Bool] = []
        for _ in 0..<8 {
            let compressed = sizer.compressed, bytes = 3_000_000.0
            asked.append(compressed)
            let seconds = compressed ? bytes / 60_000_000 + bytes / 3 / link : bytes / link
            sizer.record(rows: 10_000, bytes: Int(bytes), seconds: seconds, compressed: compressed)
        }
        return asked
    }

    @Test func partsComeUncompressedOnlyWhereThatIsFaster() {
        // Loopback (1 GB/s): one part compressed, then as they are.
        #expect(modes(link: 1_000_000_000) == [true] + Array(repeating: false, count: 7))
        // 100 Mbit/s: one part tried as it is (three times slower), then compressed again.
        #expect(modes(link: 12_500_000) == [true, false] + Array(repeating: true, count: 6))
        // 64 kbit/s: never tried.
        #expect(modes(link: 8_000) == Array(repeating: true, count: 8))
        // A part lost to the link: the next one compressed.
        let sizer = SnapshotPartSizer(BatchSizer(maxRows: 10_000, minRows: 50, startRows: 10_000, targetSeconds: 4))
        sizer.record(rows: 10_000, bytes: 3_000_000, seconds: 0.1)
        #expect(!sizer.compressed)
        sizer.lost()
        #expect(sizer.compressed)
    }
}
