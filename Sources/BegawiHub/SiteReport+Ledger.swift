/// What of a site's report the health ledger keeps, the same in every store.
extension SiteReport {
    /// The `User-Agent` cut to 100 scalars, not `Character`s: one `Character` can hold any number
    /// of combining marks.
    package var ledgerAgent: String? {
        agent.map { String(String.UnicodeScalarView($0.unicodeScalars.prefix(100))) }
    }

    /// The hub's clock (`now`) minus the site's, in ms. The site's clock is its word: an offset
    /// beyond ten years is nonsense, not a figure (and must not overflow), and is left out.
    package func clockOffset(now: Int64) -> Int64? {
        let tenYears: Int64 = 10 * 366 * 86_400_000
        return siteTime.flatMap { t -> Int64? in
            let (difference, overflow) = now.subtractingReportingOverflow(t)
            return overflow || abs(difference) > tenYears ? nil : difference
        }
    }
}
