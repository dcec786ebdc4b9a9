// swift-tools-version:6.1
import PackageDescription

// The benchmark command, `begawi-bench`, kept out of the shipped package: `swift build` at the root
// neither builds nor installs it. Build and run it with `make bench`, or
// `swift build --package-path Benchmarks -c release` and then `Benchmarks/.build/release/begawi-bench`.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "BegawiBenchmarks",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "begawi-bench", targets: ["BegawiBench"]),
        // The hand-written Prometheus writer (BegawiMetrics) beside swift-prometheus.
        .executable(name: "begawi-bench-metrics", targets: ["MetricsBench"]),
    ],
    dependencies: [
        .package(name: "Begawi", path: ".."),
        // Only for `begawi-bench-metrics`.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .executableTarget(
            name: "BegawiBench",
            dependencies: [
                .product(name: "BegawiCore", package: "Begawi"),
                .product(name: "BegawiReplica", package: "Begawi"),
                .product(name: "CSQLite", package: "Begawi"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "MetricsBench",
            dependencies: [
                .product(name: "BegawiMetrics", package: "Begawi"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
