// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Begawi",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "begawi", targets: ["begawi"]),
        // For the benchmarks' own package (Benchmarks/), which is not part of this one.
        .library(name: "BegawiCore", targets: ["BegawiCore"]),
        .library(name: "BegawiReplica", targets: ["BegawiReplica"]),
        .library(name: "BegawiMetrics", targets: ["BegawiMetrics"]),
        .library(name: "CSQLite", targets: ["CSQLite"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // System libraries: the shims hold only what Swift cannot call.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Pure model: clock, vectors, stamps, merge, batches and their wire codec. No I/O.
        .target(
            name: "BegawiCore",
            dependencies: ["CZlib", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
        // A SQLite replica: schema install, capture triggers, outbox, export, apply, ledger.
        .target(
            name: "BegawiReplica",
            dependencies: ["BegawiCore", "CSQLite", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict),
        // systemd's notify protocol (READY, STATUS, STOPPING, watchdog pings) over $NOTIFY_SOCKET.
        .target(name: "BegawiSystemd", swiftSettings: strict),
        // A private CA and the TLS server certificates it signs (the hub's, the tests'), made in-process.
        .target(
            name: "BegawiCertificates",
            dependencies: [
                "BegawiCore",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strict),
        // docs/openapi.yaml, embedded by the C compiler (#embed) for the hub to serve.
        .target(name: "COpenAPI"),
        // Prometheus' text format and latency histograms. No I/O.
        .target(name: "BegawiMetrics", swiftSettings: strict),
        // The rules between agencies: owners, writers, receivers, NIK checks and derived keys. No I/O.
        .target(name: "BegawiRules", dependencies: ["BegawiCore"], swiftSettings: strict),
        // The site service: sync loop, hub client over libcurl, backoff, status. Never imports Hummingbird.
        .target(
            name: "BegawiSite",
            dependencies: [
                "BegawiCore", "BegawiReplica", "BegawiRules", "BegawiMetrics", "CCurl", "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        // The hub service: store, routes, authentication, change feed.
        .target(
            name: "BegawiHub",
            dependencies: [
                "BegawiCore", "BegawiReplica", "BegawiRules", "BegawiMetrics", "COpenAPI",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        // The hub's store on PostgreSQL (issue 17; `database = "postgresql://…"` selects it): settings, a blocking session, the feed;
        // the office's reads and sessions on it too (BegawiOffice's `OfficeStore`: they need the store's sessions and merge state).
        .target(
            name: "BegawiPostgres",
            dependencies: [
                "BegawiCore",
                "BegawiReplica",
                "BegawiRules",
                "BegawiHub",
                "BegawiOffice",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // The office of Handak Begawi: dashboard, enrollment report, conflict reviews and re-apply,
        // over the hub's store (the hub library never imports it).
        .target(
            name: "BegawiOffice",
            dependencies: [
                "BegawiCore", "BegawiReplica", "BegawiRules", "BegawiHub",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: strict),
        // `begawi demo`: the labour office's story, driving this same binary as hub and sites.
        .target(
            name: "BegawiDemo",
            dependencies: [
                "BegawiCore", "BegawiReplica", "BegawiRules", "BegawiHub",
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "begawi",
            dependencies: [
                "BegawiCore", "BegawiReplica", "BegawiRules", "BegawiSite", "BegawiHub", "BegawiSystemd", "BegawiMetrics", "CCurl",
                "BegawiOffice", "BegawiDemo", "BegawiCertificates", "BegawiPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            // The Swift runtime and Foundation linked in, debug builds included (the tests package
            // the debug binary): a partner's machine needs only Debian's libraries, no toolchain.
            // Compiled with the flag too, so that this module's imports name the static libraries
            // Foundation needs (its ICU among them).
            swiftSettings: strict + [.unsafeFlags(["-static-stdlib"], .when(platforms: [.linux]))],
            linkerSettings: [.unsafeFlags(["-static-stdlib"], .when(platforms: [.linux]))]),

        // What several test targets share: temporary folders, running blocking tests off the cooperative pool.
        .target(name: "BegawiTestSupport", path: "Tests/BegawiTestSupport", swiftSettings: strict),
        .testTarget(name: "BegawiMetricsTests", dependencies: ["BegawiMetrics"], swiftSettings: strict),
        .testTarget(name: "BegawiCoreTests", dependencies: ["BegawiCore"], swiftSettings: strict),
        .testTarget(name: "BegawiRulesTests", dependencies: ["BegawiCore", "BegawiRules"], swiftSettings: strict),
        .testTarget(
            name: "BegawiReplicaTests",
            dependencies: ["BegawiCore", "BegawiReplica", "BegawiTestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict),
        // Real processes: the `begawi` binary as hub and sites over loopback TLS.
        .testTarget(
            name: "BegawiSystemTests",
            dependencies: [
                "BegawiCore", "BegawiReplica", "BegawiRules", "BegawiSite", "BegawiTestSupport", "BegawiHub", "BegawiPostgres",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "BegawiHubTests",
            dependencies: [
                "BegawiCore", "BegawiReplica", "BegawiRules", "BegawiHub", "BegawiSite", "BegawiCertificates", "BegawiTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "BegawiOfficeTests",
            dependencies: [
                "BegawiCore", "BegawiHub", "BegawiOffice",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: strict),
        // Needs a PostgreSQL server named by BEGAWI_TEST_POSTGRES (make test starts one); skipped without.
        .testTarget(
            name: "BegawiPostgresTests",
            dependencies: ["BegawiCore", "BegawiRules", "BegawiReplica", "BegawiHub", "BegawiPostgres", "BegawiSite", "BegawiTestSupport", "BegawiOffice",
                           .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict),
        .testTarget(
            name: "BegawiSiteTests",
            dependencies: ["BegawiCore", "BegawiReplica", "BegawiSite", "BegawiCertificates", "BegawiTestSupport"],
            swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6],
    // C23, for #embed in COpenAPI.
    cLanguageStandard: .gnu2x
)
