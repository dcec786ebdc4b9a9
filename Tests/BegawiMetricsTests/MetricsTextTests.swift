import BegawiMetrics
import Testing

@Suite struct MetricsTextTests {
    @Test func valuesAreWrittenAsPrometheusReadsThem() {
        #expect(MetricsText.format(3) == "3")
        #expect(MetricsText.format(-2) == "-2")
        #expect(MetricsText.format(0.25) == "0.25")
        #expect(MetricsText.format(.infinity) == "+Inf")
        #expect(MetricsText.format(-.infinity) == "-Inf")
        #expect(MetricsText.format(.nan) == "NaN")
        #expect(MetricsText.format(1_764_000_000.5) == "1764000000.5")
    }

    @Test func labelValuesAreEscaped() {
        var m = MetricsText()
        m.add("x_total", .counter, help: "Help with a \\ and\na newline.", [.init(1, labels: [("agent", "a\"b\\c\nd")])])
        #expect(m.text == """
            # HELP x_total Help with a \\\\ and\\na newline.
            # TYPE x_total counter
            x_total{agent="a\\"b\\\\c\\nd"} 1

            """)
    }

    /// By Unicode scalars: `"` + U+0301 is one `Character` that is not `"`, and CR LF is one that
    /// is not LF; the exposition format's reader sees the quote and the line feed all the same.
    @Test func labelValuesAreEscapedByScalars() {
        var m = MetricsText()
        m.add("x", .gauge, help: "Two\r\nlines \\\u{301}.", [.init(1, labels: [("agent", "x\"\u{301},site=\"disnaker"), ("b", "a\r\nb\\\u{301}")])])
        #expect(m.text == """
            # HELP x Two\r\\nlines \\\\\u{301}.
            # TYPE x gauge
            x{agent="x\\"\u{301},site=\\"disnaker",b="a\r\\nb\\\\\u{301}"} 1

            """)
        #expect(m.text.unicodeScalars.filter { $0 == "\n" }.count == 3)
    }

    @Test func histogramBucketsAreCumulative() {
        let h = LatencyHistogram(bounds: [0.1, 1])
        h.observe("/v1/push", seconds: 0.05)
        h.observe("/v1/push", seconds: 0.5)
        h.observe("/v1/push", seconds: 5)
        let samples = h.samples(labelName: "route")
        func value(_ suffix: String, le: String? = nil) -> Double? {
            samples.first { $0.suffix == suffix && (le == nil || $0.labels.contains { $0 == ("le", le!) }) }?.value
        }
        #expect(value("_bucket", le: "0.1") == 1)
        #expect(value("_bucket", le: "1") == 2)
        #expect(value("_bucket", le: "+Inf") == 3)
        #expect(value("_count") == 3)
        #expect(abs((value("_sum") ?? 0) - 5.55) < 1e-9)
    }
}
